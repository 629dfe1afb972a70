/* Who may use slmd: root, slmd's own user, and members of the configured allowed_groups
 * (primary or supplementary, as the user database says). Both transports ask the same
 * question: HTTP with the peer's SO_PEERCRED, D-Bus with the bus's
 * GetConnectionUnixUser answer. */
#ifndef SLM_IPC_AUTH_H
#define SLM_IPC_AUTH_H

#include <stdbool.h>
#include <sys/types.h>

#include "daemon/server_config.h"

/* `gid` is the caller's effective group when known (SO_PEERCRED), or (gid_t)-1. Looks the
 * user up with getpwuid_r/getgrouplist, so call it once per connection or caller and keep
 * the answer. */
bool ipc_caller_allowed(const struct slmd_server_config *config, uid_t uid, gid_t gid);

/* Root only: the Manager methods that change state. */
static inline bool ipc_caller_is_root(uid_t uid) { return uid == 0; }

#endif
