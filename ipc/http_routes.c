/* The endpoints of the Unix-socket API (DESIGN.md "Unix socket API", docs/api.md). */
#include <string.h>

#include "ipc/http_server.h"

static const struct http_route models_route = {
    .method = "GET", .path = "/v1/models", .start = http_route_models};
static const struct http_route model_route = {
    .method = "GET", .path = "/v1/models/", .path_is_prefix = true, .start = http_route_models};
static const struct http_route health_route = {
    .method = "GET", .path = "/health", .start = http_route_health};
static const struct http_route metrics_route = {
    .method = "GET", .path = "/metrics", .start = http_route_metrics};

static const struct http_route *const routes[] = {
    &models_route,          &model_route,         &http_route_completions,
    &http_route_chat,       &http_route_embeddings, &http_route_classify,
    &http_route_tokenize,   &http_route_detokenize, &health_route,
    &metrics_route,
};

static bool path_matches(const struct http_route *r, const char *url)
{
    if (!r->path_is_prefix)
        return !strcmp(url, r->path);
    size_t n = strlen(r->path);
    return !strncmp(url, r->path, n) && url[n] && !strchr(url + n, '/');
}

const struct http_route *http_route_find(const char *method, const char *url,
                                         const char **allowed)
{
    *allowed = NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!path_matches(routes[i], url))
            continue;
        if (!strcmp(method, routes[i]->method))
            return routes[i];
        *allowed = routes[i]->method;
    }
    return NULL;
}
