/* The C path's throughput, in one run against ami-sim: a raw blocking read()
 * drain of a SimFlood (no parsing: the ceiling), the same flood through the
 * library into a C callback and into the pull queue, and pipelined Pings
 * with 1,000 in flight.
 * Build and run: make bench-c   (prints figures; judges nothing) */
#define _POSIX_C_SOURCE 200809L
#include <ami.h>
#include <ami/ami.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds (user + system) this process has used. */
static double cpu(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static int has(const char *buf, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, needle, k) == 0) return 1;
    return 0;
}

static int tcp_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(1); }
    return fd;
}

static double raw_drain(int port, long count) {
    int fd = tcp_connect(port);
    const char *login = "Action: Login\r\nUsername: admin\r\nSecret: admin\r\nEvents: off\r\n\r\n";
    if (write(fd, login, strlen(login)) < 0) exit(1);
    static char buf[256 * 1024];
    size_t got = 0;
    while (!has(buf, got, "accepted")) { ssize_t n = read(fd, buf + got, sizeof buf - got); if (n <= 0) exit(1); got += (size_t)n; }
    char flood[128];
    snprintf(flood, sizeof flood, "Action: SimFlood\r\nCount: %ld\r\nSize: 500\r\n\r\n", count);
    double t0 = now();
    if (write(fd, flood, strlen(flood)) < 0) exit(1);
    char tail[64] = {0};
    for (int first = 1;; first = 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) { fprintf(stderr, "sim closed\n"); exit(1); }
        /* A real Asterisk answers SimFlood with an error and sends no events. */
        if (first && has(buf, (size_t)n < 256 ? (size_t)n : 256, "Response: Error")) {
            fprintf(stderr, "the server does not know SimFlood (not ami-sim?): pass EVENTS 0 for actions only\n");
            exit(2);
        }
        /* look for the end marker, also across read boundaries */
        char joined[64 + 64];
        size_t head = (size_t)n < 64 ? (size_t)n : 64;
        memcpy(joined, tail, 32);
        memcpy(joined + 32, buf, head);
        if (has(joined, 32 + head, "SimFloodComplete") || has(buf, (size_t)n, "SimFloodComplete")) break;
        if (n >= 32) memcpy(tail, buf + n - 32, 32);
    }
    double t = now() - t0;
    close(fd);
    return t;
}

static atomic_long seen;
static atomic_int flood_done;

static void on_event(const ami_message *e, void *ud) {
    (void)ud;
    atomic_fetch_add_explicit(&seen, 1, memory_order_relaxed);
    const char *name = ami_message_get(e, "Event");
    if (name && strcmp(name, "SimFloodComplete") == 0) atomic_store(&flood_done, 1);
}

/* A client logged in to ami-sim; `pull`: its events go to the pull queue,
 * and overflow=block holds the reader back instead of dropping. */
static ami_client *logged_in_with(int port, int pull) {
    ami_options *o = ami_options_new();
    ami_options_set(o, "events", "off");
    if (pull) {
        ami_options_set(o, "event_queue", "1");
        ami_options_set(o, "overflow", "block");
    }
    ami_client *c = ami_client_new(o);
    ami_options_free(o);
    if (ami_client_connect(c, "127.0.0.1", (uint16_t)port) != AMI_OK || ami_client_login(c, "admin", "admin") != AMI_OK) {
        fprintf(stderr, "login: %s\n", ami_last_error());
        exit(1);
    }
    return c;
}

static ami_client *logged_in(int port) { return logged_in_with(port, 0); }

/* Asks for a flood of `count` events and returns once it is answered. */
static void start_flood(ami_client *c, long count) {
    char n[32];
    snprintf(n, sizeof n, "%ld", count);
    const char *h[] = {"Count", n, "Size", "500", NULL};
    ami_message *r = NULL;
    ami_client_action(c, "SimFlood", h, &r, -1);
    ami_message_free(r);
}

static double callback_flood(int port, long count) {
    ami_client *c = logged_in(port);
    atomic_store(&seen, 0);
    atomic_store(&flood_done, 0);
    ami_client_subscribe(c, "*", on_event, NULL);
    double t0 = now();
    start_flood(c, count);
    struct timespec tick = {0, 100000L};
    while (!atomic_load(&flood_done)) nanosleep(&tick, NULL);
    double t = now() - t0;
    if (atomic_load(&seen) != count + 1)
        fprintf(stderr, "lost events: %ld of %ld (dropped %llu)\n", atomic_load(&seen), count + 1,
                (unsigned long long)ami_client_dropped_events(c));
    ami_client_free(c);
    return t;
}

/* The same flood taken from the pull queue (`ami_client_next_event`) on
 * this thread. */
static double pull_flood(int port, long count) {
    ami_client *c = logged_in_with(port, 1);
    double t0 = now();
    start_flood(c, count);
    long got = 0;
    for (;;) {
        ami_message *e = NULL;
        if (ami_client_next_event(c, &e, 10000) != AMI_OK) { fprintf(stderr, "pull queue: %s\n", ami_last_error()); exit(1); }
        got++;
        const char *name = ami_message_get(e, "Event");
        int done = name && strcmp(name, "SimFloodComplete") == 0;
        ami_message_free(e);
        if (done) break;
    }
    double t = now() - t0;
    if (got != count + 1) fprintf(stderr, "pull queue: %ld events of %ld\n", got, count + 1);
    ami_client_free(c);
    return t;
}

static atomic_long answered;

static void on_pong(int status, const ami_message *r, void *ud) {
    (void)r;
    (void)ud;
    if (status == AMI_OK) atomic_fetch_add(&answered, 1);
}

static double pipelined_pings(int port, long total, long window) {
    ami_client *c = logged_in(port);
    ami_message *ping = ami_message_new("Ping");
    atomic_store(&answered, 0);
    struct timespec tick = {0, 20000L};
    double t0 = now();
    for (long sent = 0; sent < total; sent++) {
        while (sent - atomic_load(&answered) >= window) nanosleep(&tick, NULL);
        ami_client_send_async(c, ping, on_pong, NULL);
    }
    while (atomic_load(&answered) < total) nanosleep(&tick, NULL);
    double t = now() - t0;
    ami_message_free(ping);
    ami_client_free(c);
    return t;
}

/* The raw baselines: a blocking socket that only counts the ends of
 * messages ("\r\n\r\n"), no parsing, TCP_NODELAY as libami sets it. */
static int raw_logged_in(int port) {
    int fd = tcp_connect(port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const char *login = "Action: Login\r\nUsername: admin\r\nSecret: admin\r\nEvents: off\r\n\r\n";
    if (write(fd, login, strlen(login)) < 0) exit(1);
    char buf[4096];
    size_t got = 0;
    while (!has(buf, got, "accepted\r\n\r\n")) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n <= 0) exit(1);
        got += (size_t)n;
    }
    return fd;
}

/* Counts message ends in buf, carrying the last 3 bytes across reads. */
static long count_ends(const char *buf, size_t n, unsigned *state) {
    long ends = 0;
    for (size_t i = 0; i < n; i++) {
        *state = (*state << 8) | (unsigned char)buf[i];
        if (*state == 0x0d0a0d0a) ends++;
    }
    return ends;
}

/* A raw client's Ping, without or with an ActionID (about as long as the
 * library's): Asterisk writes an answer's ActionID line with a write of
 * its own, so the second costs it more than the first (see the README). */
static size_t raw_ping(char *out, long n, int with_id) {
    static const char head[] = "Action: Ping\r\n", id[] = "ActionID: raw-0000000000000-";
    memcpy(out, head, sizeof head - 1);
    size_t len = sizeof head - 1;
    if (with_id) { /* no printf: the raw client's own cost stays small */
        memcpy(out + len, id, sizeof id - 1);
        len += sizeof id - 1;
        char digits[16];
        int k = 0;
        do digits[k++] = "0123456789abcdef"[n & 15]; while ((n >>= 4) != 0);
        while (k) out[len++] = digits[--k];
        memcpy(out + len, "\r\n", 2);
        len += 2;
    }
    memcpy(out + len, "\r\n", 2);
    return len + 2;
}

static double raw_round_trips(int port, long n, int with_id) {
    int fd = raw_logged_in(port);
    char buf[4096], ping[128];
    unsigned state = 0;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        size_t len = raw_ping(ping, i, with_id);
        if (write(fd, ping, len) < 0) exit(1);
        long ends = 0;
        while (ends == 0) {
            ssize_t got = read(fd, buf, sizeof buf);
            if (got <= 0) exit(1);
            ends = count_ends(buf, (size_t)got, &state);
        }
    }
    double t = now() - t0;
    close(fd);
    return t;
}

static double raw_pipeline(int port, long total, long window, int with_id) {
    int fd = raw_logged_in(port);
    static char buf[256 * 1024], out[1000 * 128];
    unsigned state = 0;
    long sent = 0, done = 0;
    double t0 = now();
    while (done < total) {
        long room = window - (sent - done), k = 0;
        size_t len = 0;
        while (k < room && sent < total && k < 1000) {
            len += raw_ping(out + len, sent, with_id);
            k++;
            sent++;
        }
        if (k && write(fd, out, len) < 0) exit(1);
        ssize_t got = read(fd, buf, sizeof buf);
        if (got <= 0) exit(1);
        done += count_ends(buf, (size_t)got, &state);
    }
    double t = now() - t0;
    close(fd);
    return t;
}

static int classic_socket(int port) {
    int fd = tcp_connect(port);
    ami_destroy_packet_group(ami_login(fd, "admin", "admin", "off", NULL));
    return fd;
}

/* One Ping at a time, each waiting for its answer: classic and modern. */
static double classic_pings(int port, long n) {
    int fd = classic_socket(port);
    double t0 = now();
    for (long i = 0; i < n; i++)
        if (ami_ping(fd, NULL) != 1) { fprintf(stderr, "classic ping failed\n"); exit(1); }
    double t = now() - t0;
    close(fd);
    return t;
}

static double modern_pings(int port, long n) {
    ami_client *c = logged_in(port);
    ami_message *ping = ami_message_new("Ping");
    double t0 = now();
    for (long i = 0; i < n; i++) {
        ami_message *r = NULL;
        if (ami_client_send(c, ping, &r, -1) != AMI_OK) { fprintf(stderr, "modern ping failed\n"); exit(1); }
        ami_message_free(r);
    }
    double t = now() - t0;
    ami_message_free(ping);
    ami_client_free(c);
    return t;
}

static long classic_seen;

static void on_classic_event(ast_packet *p, void *data) {
    (void)p;
    (void)data;
    classic_seen++;
}

static double classic_flood(int port, long count) {
    int fd = classic_socket(port);
    classic_seen = 0;
    ami_set_event_cb(on_classic_event, NULL);
    char flood[128];
    snprintf(flood, sizeof flood, "Action: SimFlood\r\nCount: %ld\r\nSize: 500\r\n\r\n", count);
    double t0 = now();
    ami_sock_send(fd, flood);
    while (classic_seen < count + 1) ami_sock_receive_event(fd);
    double t = now() - t0;
    ami_set_event_cb(NULL, NULL);
    close(fd);
    return t;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [EVENTS] [PINGS]  (EVENTS 0: actions only, e.g. against Asterisk)\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    long events = argc > 2 ? atol(argv[2]) : 500000, pings = argc > 3 ? atol(argv[3]) : 300000;
    /* EVENTS 0: actions only (a real Asterisk, which has no SimFlood). */
    double raw = 1, cb = 1, pull = 1, cl_flood = 1;
    if (events > 0) {
        raw_drain(port, 10000); /* warm up */
        callback_flood(port, 10000);
        pull_flood(port, 10000);
        raw = raw_drain(port, events);
        cb = callback_flood(port, events);
        pull = pull_flood(port, events);
    }
    double raw_pp = raw_pipeline(port, pings, 1000, 0);
    double pp = pipelined_pings(port, pings, 1000);
    double raw_id_pp = raw_pipeline(port, pings, 1000, 1);
    long rtt = pings / 10;
    double raw_id_rtt = raw_round_trips(port, rtt, 1);
    double c0 = cpu();
    double raw_rtt = raw_round_trips(port, rtt, 0);
    double c1 = cpu();
    double cl_ping = classic_pings(port, rtt);
    double c2 = cpu();
    double mo_ping = modern_pings(port, rtt);
    double c3 = cpu();
    if (events > 0) cl_flood = classic_flood(port, events);
    printf("C path (%ld events of ~500 bytes, %ld pings):\n", events, pings);
    if (events > 0) {
        printf("  raw read() drain           %12.0f events/s\n", (double)events / raw);
        printf("  libami -> C callback       %12.0f events/s  (%.2f of raw)\n", (double)events / cb, raw / cb);
        printf("  libami -> C pull queue     %12.0f events/s  (%.2f of raw; ami_client_next_event)\n", (double)events / pull, raw / pull);
    }
    printf("  raw pipeline (1000 in flight, counting ends) %9.0f actions/s; with an ActionID each %9.0f actions/s\n",
           (double)pings / raw_pp, (double)pings / raw_id_pp);
    printf("  pipelined Ping (1000 in flight) %9.0f actions/s  (%.2f of raw; %.2f of raw with ActionIDs)\n",
           (double)pings / pp, raw_pp / pp, raw_id_pp / pp);
    printf("  raw blocking round trips   %12.0f /s; with an ActionID each %9.0f /s\n", (double)rtt / raw_rtt, (double)rtt / raw_id_rtt);
    printf("  one Ping at a time: classic ami_ping %9.0f/s (%.2f of raw), modern ami_client_send %9.0f/s (%.2f of raw; %.2f of raw with ActionIDs)\n",
           (double)rtt / cl_ping, raw_rtt / cl_ping, (double)rtt / mo_ping, raw_rtt / mo_ping, raw_id_rtt / mo_ping);
    printf("  CPU per round trip (this process, user+system): raw %.1f us, classic %.1f us, modern %.1f us\n",
           (c1 - c0) / rtt * 1e6, (c2 - c1) / rtt * 1e6, (c3 - c2) / rtt * 1e6);
    if (events > 0)
        printf("  classic ami_sock_receive_event %12.0f events/s  (%.2f of raw)\n", (double)events / cl_flood, raw / cl_flood);
    return 0;
}
