/* Originate a call asynchronously and wait for its OriginateResponse.
 * usage: originate HOST PORT USER SECRET [CHANNEL] */
#include <ami.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT USER SECRET [CHANNEL]\n", argv[0]);
        return 2;
    }
    const char *channel = argc > 5 ? argv[5] : "Local/200@default";
    ami_options *o = ami_options_new();
    ami_options_set(o, "action_timeout_ms", "30000"); /* a call may take a while to answer */
    ami_client *c = ami_client_new(o);
    ami_options_free(o);
    int st = ami_client_connect(c, argv[1], (uint16_t)atoi(argv[2]));
    if (st == AMI_OK) st = ami_client_login(c, argv[3], argv[4]);
    if (st != AMI_OK) {
        fprintf(stderr, "%s (%s)\n", ami_strerror(st), ami_last_error());
        ami_client_free(c);
        return 1;
    }
    ami_message *orig = ami_message_new("Originate"), *result = NULL;
    ami_message_add(orig, "Channel", channel);
    ami_message_add(orig, "Application", "Wait");
    ami_message_add(orig, "Data", "1");
    ami_message_add(orig, "Async", "true");
    /* Complete on the OriginateResponse event, not on "successfully queued". */
    ami_message_wait_event(orig, "OriginateResponse");
    st = ami_client_send(c, orig, &result, -1);
    ami_message_free(orig);
    if (st != AMI_OK) {
        fprintf(stderr, "originate: %s (%s)\n", ami_strerror(st), ami_last_error());
        ami_client_free(c);
        return 1;
    }
    printf("OriginateResponse: %s, channel %s, reason %s\n", ami_message_get(result, "Response"),
           ami_message_get(result, "Channel"), ami_message_get(result, "Reason"));
    int ok = ami_message_is_success(result);
    ami_message_free(result);
    ami_client_logoff(c);
    ami_client_free(c);
    return ok ? 0 : 1;
}
