/* Print every event as it arrives until Ctrl-C (or SECONDS pass).
 * usage: monitor HOST PORT USER SECRET [SECONDS] */
#define _POSIX_C_SOURCE 200809L
#include <ami.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_sigint(int sig) {
    (void)sig;
    stop = 1;
}

/* Runs on the library's dispatch thread, one event at a time, in order. */
static void print_event(const ami_message *event, void *userdata) {
    (void)userdata;
    printf("Event: %s\n", ami_message_get(event, "Event"));
    for (size_t i = 0; i < ami_message_count(event); i++) {
        if (i > 0) printf("  %s: %s\n", ami_message_name_at(event, i), ami_message_value_at(event, i));
    }
    fflush(stdout);
}

static void on_state(int state, int status, void *userdata) {
    (void)userdata;
    if (state == AMI_STATE_DISCONNECTED && status != AMI_ECLOSED) { /* ECLOSED: we closed it */
        fprintf(stderr, "disconnected: %s\n", ami_strerror(status));
        stop = 1;
    }
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT USER SECRET [SECONDS]\n", argv[0]);
        return 2;
    }
    int seconds = argc > 5 ? atoi(argv[5]) : 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ami_client *c = ami_client_new(NULL);
    ami_client_on_state(c, on_state, NULL);
    int st = ami_client_connect(c, argv[1], (uint16_t)atoi(argv[2]));
    if (st == AMI_OK) st = ami_client_login(c, argv[3], argv[4]);
    if (st != AMI_OK) {
        fprintf(stderr, "%s (%s)\n", ami_strerror(st), ami_last_error());
        ami_client_free(c);
        return 1;
    }
    if (ami_client_subscribe(c, "*", print_event, NULL) == 0) {
        fprintf(stderr, "subscribe: %s\n", ami_last_error());
        return 1;
    }
    fprintf(stderr, "monitoring %s:%s, Ctrl-C to stop\n", argv[1], argv[2]);
    struct timespec tick = {0, 100000000L};
    for (int ticks = 0; !stop && (seconds == 0 || ticks < seconds * 10); ticks++) nanosleep(&tick, NULL);
    ami_client_free(c); /* unsubscribes, closes, joins the dispatch thread */
    fprintf(stderr, "monitor stopped\n");
    return 0;
}
