/* Tiny test harness for the C tests: CHECK counts, sim_start runs ami-sim. */
#ifndef AMI_TEST_CHECK_H
#define AMI_TEST_CHECK_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int checks_passed, checks_failed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            checks_passed++;                                                     \
        } else {                                                                 \
            checks_failed++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n",        \
                    __FILE__, __LINE__, #cond, ami_last_error());                \
        }                                                                        \
    } while (0)

#define CHECK_STATUS(expr, want)                                                 \
    do {                                                                         \
        int got_ = (expr);                                                       \
        if (got_ == (want)) {                                                    \
            checks_passed++;                                                     \
        } else {                                                                 \
            checks_failed++;                                                     \
            fprintf(stderr, "%s:%d: %s returned %d (%s), wanted %s (last error: %s)\n", \
                    __FILE__, __LINE__, #expr, got_, ami_strerror(got_), #want,  \
                    ami_last_error());                                           \
        }                                                                        \
    } while (0)

/* Prints the closing line test runners read, and gives the exit status. */
static int checks_report(void) {
    printf("%d passed, %d failed\n", checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

typedef struct { pid_t pid; unsigned short port, http_port; } sim;

/* Reads one line of the simulator's output; returns the port after its last ':'. */
static unsigned short sim_line(int fd, const char *prefix) {
    char line[128] = {0};
    size_t n = 0;
    while (n < sizeof line - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n') n++;
    const char *colon = strrchr(line, ':');
    if (strncmp(line, prefix, strlen(prefix)) != 0 || !colon) {
        fprintf(stderr, "ami-sim did not start: '%s'\n", line);
        exit(2);
    }
    return (unsigned short)atoi(colon + 1);
}

/* Starts $AMI_SIM on a free port with up to 6 extra arguments (NULL-ended). */
static sim sim_start(const char *a1, const char *a2, const char *a3) {
    sim s = {0, 0, 0};
    const char *path = getenv("AMI_SIM");
    int fds[2];
    if (!path || pipe(fds) != 0) {
        fprintf(stderr, "AMI_SIM is not set (path to ami-sim)\n");
        exit(2);
    }
    s.pid = fork();
    if (s.pid == 0) {
        /* The simulator dies with the test, even when the test crashes
         * (its pipes would otherwise keep the test runner waiting). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        const char *argv[10] = {path, "--listen", "127.0.0.1:0", "--quiet", a1, a2, a3, NULL};
        dup2(fds[1], 1);
        close(fds[0]);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    s.port = sim_line(fds[0], "listening on ");
    int http = (a1 && strcmp(a1, "--http") == 0) || (a2 && strcmp(a2, "--http") == 0);
    if (http) s.http_port = sim_line(fds[0], "http on ");
    close(fds[0]);
    return s;
}

static void sim_stop(sim s) {
    if (s.pid > 0) {
        kill(s.pid, SIGTERM);
        waitpid(s.pid, NULL, 0);
    }
}

/* A TCP connection to 127.0.0.1:port (the classic API takes the program's own socket). */
static inline int tcp_connect(unsigned short port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(2);
    }
    return fd;
}

#endif
