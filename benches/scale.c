/* Many connections in one process (modern API, one engine): for each N,
 * connect + login time, memory and threads per connection, then every client
 * with a "*" callback while one client sends UserEvents, then a pipelined
 * Ping load spread over 1,000 connections. Prints figures; asserts nothing.
 * Then N clients logging in with events `on`: each login sends a security
 * event to every other session, so N logins cost N^2/2 events.
 *   usage: scale PORT N [N...]        (run by `make bench-scale`)
 *          scale --idle PORT N        (the idle phase alone, e.g. under valgrind) */
#define _DEFAULT_SOURCE
#include <ami.h>
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* A field of /proc/self/status, in kB (VmRSS) or as a count (Threads). */
static long status_field(const char *name) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') v = atol(line + n + 1);
    if (f) fclose(f);
    return v;
}

static long open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    long n = 0;
    while (d && readdir(d)) n++;
    if (d) closedir(d);
    return n - 2;
}

static atomic_long events_seen;
static void on_event(const ami_message *e, void *ud) {
    (void)e;
    (void)ud;
    atomic_fetch_add(&events_seen, 1);
}

static atomic_long pings_done;
static void on_ping(int status, const ami_message *r, void *ud) {
    (void)r;
    (void)ud;
    if (status == AMI_OK) atomic_fetch_add(&pings_done, 1);
}

/* N clients connected and logged in; NULL on the first failure. */
static ami_client **open_clients(unsigned short port, int n, const char *events, double *seconds) {
    ami_options *o = ami_options_new();
    ami_options_set(o, "events", events);
    ami_client **c = calloc((size_t)n, sizeof *c);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        c[i] = ami_client_new(o);
        if (ami_client_connect(c[i], "127.0.0.1", port) != AMI_OK || ami_client_login(c[i], "admin", "admin") != AMI_OK) {
            fprintf(stderr, "client %d: %s\n", i, ami_last_error());
            for (int j = 0; j <= i; j++) ami_client_free(c[j]);
            free(c);
            ami_options_free(o);
            return NULL;
        }
    }
    *seconds = now() - t0;
    ami_options_free(o);
    return c;
}

static void close_clients(ami_client **c, int n) {
    for (int i = 0; i < n; i++) ami_client_free(c[i]);
    free(c);
}

static void idle(unsigned short port, int n, long base_kb) {
    double secs;
    ami_client **c = open_clients(port, n, "off", &secs);
    if (!c) return;
    long kb = status_field("VmRSS");
    printf("%6d idle      connect+login %6.2f s  RSS %7.1f MB  %5.1f KiB/conn  threads %ld  fds %ld\n", n, secs,
           kb / 1024.0, (double)(kb - base_kb) / n, status_field("Threads"), open_fds());
    close_clients(c, n);
    printf("%6s after free RSS %7.1f MB (start %.1f MB)\n", "", status_field("VmRSS") / 1024.0, base_kb / 1024.0);
}

static void callbacks(unsigned short port, int n, long base_kb) {
    double secs;
    ami_client **c = open_clients(port, n, "user", &secs);
    if (!c) return;
    for (int i = 0; i < n; i++) ami_client_subscribe(c[i], "*", on_event, NULL);
    long kb = status_field("VmRSS");
    atomic_store(&events_seen, 0);
    const char *ue[] = {"UserEvent", "Scale", NULL};
    const int per = 10;
    double t0 = now();
    for (int i = 0; i < per; i++) {
        ami_message *r = NULL;
        if (ami_client_action(c[0], "UserEvent", ue, &r, -1) == AMI_OK) ami_message_free(r);
    }
    long want = (long)n * per;
    while (atomic_load(&events_seen) < want && now() - t0 < 120) usleep(1000);
    printf("%6d callback  connect+login %6.2f s  RSS %7.1f MB  %5.1f KiB/conn  threads %ld  "
           "%ld/%ld events in %.2f s\n",
           n, secs, kb / 1024.0, (double)(kb - base_kb) / n, status_field("Threads"), atomic_load(&events_seen), want,
           now() - t0);
    close_clients(c, n);
}

static void pings(unsigned short port, int n, int per) {
    double secs;
    ami_client **c = open_clients(port, n, "off", &secs);
    if (!c) return;
    ami_message *ping = ami_message_new("Ping");
    atomic_store(&pings_done, 0);
    double t0 = now();
    for (int k = 0; k < per; k++)
        for (int i = 0; i < n; i++) ami_client_send_async(c[i], ping, on_ping, NULL);
    long want = (long)n * per;
    while (atomic_load(&pings_done) < want && now() - t0 < 120) usleep(1000);
    double t = now() - t0;
    printf("%6d pipelined Pings over %d connections: %ld in %.2f s = %.0f actions/s\n", n * per, n,
           atomic_load(&pings_done), t, atomic_load(&pings_done) / t);
    ami_message_free(ping);
    close_clients(c, n);
}

/* Logins with events on: the library reads and drops what nobody asked for. */
static void events_on(unsigned short port, int n) {
    double secs;
    ami_client **c = open_clients(port, n, "on", &secs);
    if (!c) return;
    long events = (long)n * (n - 1) / 2;
    printf("%6d events on connect+login %6.2f s  (~%ld security events sent by the server, %.0f/s)\n", n, secs, events,
           events / secs);
    close_clients(c, n);
}

int main(int argc, char **argv) {
    int idle_only = argc > 1 && strcmp(argv[1], "--idle") == 0;
    if (argc < 3 + idle_only) {
        fprintf(stderr, "usage: %s [--idle] PORT N [N...]\n", argv[0]);
        return 2;
    }
    argv += idle_only;
    argc -= idle_only;
    unsigned short port = (unsigned short)atoi(argv[1]);
    long base_kb = status_field("VmRSS");
    for (int a = 2; a < argc; a++) idle(port, atoi(argv[a]), base_kb);
    if (idle_only) return 0;
    for (int a = 2; a < argc; a++) callbacks(port, atoi(argv[a]), base_kb);
    pings(port, 1000, 100);
    events_on(port, 1000);
    events_on(port, 2000);
    return 0;
}
