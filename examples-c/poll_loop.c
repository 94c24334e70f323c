/* Drive events from the program's own poll() loop through the client's
 * event descriptor, instead of callbacks.
 * usage: poll_loop HOST PORT USER SECRET [EVENTS] */
#define _POSIX_C_SOURCE 200809L
#include <ami.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT USER SECRET [EVENTS]\n", argv[0]);
        return 2;
    }
    int want = argc > 5 ? atoi(argv[5]) : 5;
    ami_options *o = ami_options_new();
    ami_options_set(o, "event_queue", "1");
    ami_options_set(o, "events", "user"); /* only UserEvents for this demo */
    ami_client *c = ami_client_new(o);
    ami_options_free(o);
    int st = ami_client_connect(c, argv[1], (uint16_t)atoi(argv[2]));
    if (st == AMI_OK) st = ami_client_login(c, argv[3], argv[4]);
    if (st != AMI_OK) {
        fprintf(stderr, "%s (%s)\n", ami_strerror(st), ami_last_error());
        ami_client_free(c);
        return 1;
    }
    /* Raise some events without waiting for the answers. */
    for (int i = 0; i < want; i++) {
        char seq[16];
        snprintf(seq, sizeof seq, "%d", i + 1);
        ami_message *ue = ami_message_new("UserEvent");
        ami_message_add(ue, "UserEvent", "PollDemo");
        ami_message_add(ue, "Seq", seq);
        ami_client_send_async(c, ue, NULL, NULL);
        ami_message_free(ue);
    }
    struct pollfd fds[1] = {{ami_client_event_fd(c), POLLIN, 0}};
    int got = 0;
    while (got < want) {
        int n = poll(fds, 1, 5000);
        if (n <= 0) {
            fprintf(stderr, "no event within 5 s\n");
            break;
        }
        ami_message *event = NULL;
        while (ami_client_next_event(c, &event, 0) == AMI_OK) { /* drain what is queued */
            printf("poll: %s %s #%s\n", ami_message_get(event, "Event"), ami_message_get(event, "UserEvent"),
                   ami_message_get(event, "Seq"));
            ami_message_free(event);
            got++;
        }
    }
    ami_client_logoff(c);
    ami_client_free(c);
    return got == want ? 0 : 1;
}
