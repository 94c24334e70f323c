/* A client that stays up: TLS, automatic reconnect and keepalive, set from
 * flags; prints state changes and pings once a second.
 * usage: resilient HOST PORT USER SECRET [SECONDS] [--tls] [--ca FILE]
 *        [--insecure] [--server-name NAME] [--reconnect] [--keepalive MS] */
#define _POSIX_C_SOURCE 200809L
#include <ami.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static const char *state_name(int s) {
    static const char *names[] = {"DISCONNECTED", "CONNECTING", "CONNECTED", "LOGGED_IN", "RECONNECTING", "CLOSED"};
    return s >= 0 && s <= 5 ? names[s] : "?";
}

static void on_state(int state, int status, void *userdata) {
    (void)userdata;
    printf("state: %s%s%s\n", state_name(state), status ? " after " : "", status ? ami_strerror(status) : "");
    fflush(stdout);
}

static int set(ami_options *o, const char *k, const char *v) {
    if (ami_options_set(o, k, v) != AMI_OK) {
        fprintf(stderr, "option %s: %s\n", k, ami_last_error());
        return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT USER SECRET [SECONDS] [--tls] [--ca FILE] [--insecure] "
                        "[--server-name NAME] [--reconnect] [--keepalive MS]\n", argv[0]);
        return 2;
    }
    int seconds = 0;
    ami_options *o = ami_options_new();
    for (int i = 5; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (strcmp(a, "--tls") == 0) ok = set(o, "tls", "1");
        else if (strcmp(a, "--insecure") == 0) ok = set(o, "tls_insecure", "1"); /* testing only */
        else if (strcmp(a, "--reconnect") == 0) ok = set(o, "reconnect", "1") && set(o, "reconnect_min_ms", "200");
        else if (strcmp(a, "--ca") == 0 && next) ok = set(o, "tls_ca_file", argv[++i]);
        else if (strcmp(a, "--server-name") == 0 && next) ok = set(o, "tls_server_name", argv[++i]);
        else if (strcmp(a, "--keepalive") == 0 && next) ok = set(o, "keepalive_ms", argv[++i]);
        else if (a[0] != '-') seconds = atoi(a);
        else ok = 0;
        if (!ok) {
            fprintf(stderr, "bad argument %s\n", a);
            return 2;
        }
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ami_client *c = ami_client_new(o);
    ami_options_free(o);
    ami_client_on_state(c, on_state, NULL);
    int st = ami_client_connect(c, argv[1], (uint16_t)atoi(argv[2]));
    if (st == AMI_OK) st = ami_client_login(c, argv[3], argv[4]);
    if (st != AMI_OK) {
        fprintf(stderr, "%s (%s)\n", ami_strerror(st), ami_last_error());
        ami_client_free(c);
        return 1;
    }
    ami_message *ping = ami_message_new("Ping");
    for (int n = 0; !stop && (seconds == 0 || n < seconds); n++) {
        ami_message *r = NULL;
        st = ami_client_send(c, ping, &r, 2000); /* waits for the link while reconnecting */
        if (st == AMI_OK) printf("ping: %s\n", ami_message_get(r, "Ping"));
        else printf("ping: %s (%s)\n", ami_strerror(st), ami_last_error());
        fflush(stdout);
        ami_message_free(r);
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
    }
    ami_message_free(ping);
    ami_client_free(c);
    return 0;
}
