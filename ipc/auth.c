/* Caller authorization (see auth.h). */
#include "ipc/auth.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/cleanup.h"

/* Supplementary groups looked at per user; NGROUPS_MAX on Linux is 65536, but a gateway
 * user in more than this many groups is not a case worth allocating for up front. */
#define AUTH_GROUPS_START 64
#define AUTH_GROUPS_MAX 65536
/* getpwuid_r's string buffer when sysconf gives no hint. */
#define AUTH_PWBUF_DEFAULT 16384

static bool gid_allowed(const struct slmd_server_config *config, gid_t gid)
{
    for (size_t i = 0; i < config->n_allowed_groups && i < SLMD_MAX_ALLOWED_GROUPS; i++)
        if (config->allowed_groups[i] == gid)
            return true;
    return false;
}

static bool user_in_allowed_group(const struct slmd_server_config *config, uid_t uid)
{
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t size = hint > 0 ? (size_t)hint : AUTH_PWBUF_DEFAULT;
    _cleanup_free_ char *buf = malloc(size);
    if (!buf)
        return false;
    struct passwd pw, *found = NULL;
    if (getpwuid_r(uid, &pw, buf, size, &found) != 0 || !found)
        return false; /* a uid with no user entry has no supplementary groups */
    if (gid_allowed(config, pw.pw_gid))
        return true;
    int n = AUTH_GROUPS_START;
    for (;;) {
        _cleanup_free_ gid_t *groups = calloc((size_t)n, sizeof(*groups));
        if (!groups)
            return false;
        int count = n;
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &count) >= 0) {
            for (int i = 0; i < count; i++)
                if (gid_allowed(config, groups[i]))
                    return true;
            return false;
        }
        if (count <= n || count > AUTH_GROUPS_MAX)
            return false;
        n = count;
    }
}

bool ipc_caller_allowed(const struct slmd_server_config *config, uid_t uid, gid_t gid)
{
    if (uid == 0 || uid == geteuid())
        return true;
    if (gid != (gid_t)-1 && gid_allowed(config, gid))
        return true;
    if (!config->n_allowed_groups)
        return false;
    return user_in_allowed_group(config, uid);
}
