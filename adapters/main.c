/*
 * adapters/main.c: the tsunagi-adapters program.
 *
 *   tsunagi-adapters [--once] CONFIG     supervise every adapter of CONFIG
 *   tsunagi-adapters --check CONFIG      check CONFIG and exit
 *   tsunagi-adapters --child NAME CONFIG [--once]   (started by the supervisor)
 *
 * The supervisor re-executes this same file for each adapter (found through
 * /proc/self/exe), so the children run the code the supervisor was started
 * with even if the binary is replaced on disk meanwhile.
 */
#include "host_private.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tsunagi-adapters [--once] CONFIG\n"
            "       tsunagi-adapters --check CONFIG\n\n"
            "Runs the adapters listed in CONFIG (JSON; see docs/adapters.md), each in its\n"
            "own process, and serves their status on http://<status.bind>:<status.port>/status.\n"
            "--once runs each enabled adapter once, prints the status as JSON and exits\n"
            "(0 when every run succeeded).\n");
}

static int load(const char *path, host_conf *c)
{
    char msg[512];
    if (host_conf_load(path, c, msg, sizeof msg) < 0) {
        fprintf(stderr, "tsunagi-adapters: %s\n", msg);
        return -1;
    }
    host_log_init(c->log_level);
    return 0;
}

static int child(int argc, char **argv)
{
    host_conf c;
    if (argc < 4 || load(argv[3], &c) < 0)
        return 2;
    bool once = argc > 4 && strcmp(argv[4], "--once") == 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = host_child_main(&c, argv[2], once);
    curl_global_cleanup();
    host_conf_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    host_conf c;
    bool once = false, check = false;
    int i = 1;
    if (argc > 1 && strcmp(argv[1], "--child") == 0)
        return child(argc, argv);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--once") == 0)
            once = true;
        else if (strcmp(argv[i], "--check") == 0)
            check = true;
        else {
            usage(strcmp(argv[i], "--help") == 0 ? stdout : stderr);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (i != argc - 1) {
        usage(stderr);
        return 2;
    }
    char config[PATH_MAX], self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (realpath(argv[i], config) == NULL || n <= 0) {
        fprintf(stderr, "tsunagi-adapters: cannot find %s\n", n <= 0 ? "myself" : argv[i]);
        return 2;
    }
    self[n] = '\0';
    if (load(config, &c) < 0)
        return 2;
    if (check) {
        printf("%s: %zu adapters, configuration valid\n", config, c.n);
        host_conf_free(&c);
        return 0;
    }
    int rc = host_supervise(&c, self, config, once);
    host_conf_free(&c);
    return rc;
}
