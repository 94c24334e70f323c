/* Connect, log in, ping, run a CLI command, log off.
 * usage: login_ping HOST PORT USER SECRET */
#include <ami.h>
#include <stdio.h>
#include <stdlib.h>

static int die(const char *what, int status) {
    fprintf(stderr, "%s: %s (%s)\n", what, ami_strerror(status), ami_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT USER SECRET\n", argv[0]);
        return 2;
    }
    ami_client *c = ami_client_new(NULL);
    int st = ami_client_connect(c, argv[1], (uint16_t)atoi(argv[2]));
    if (st != AMI_OK) return die("connect", st);
    printf("connected: %s\n", ami_client_banner(c));
    if ((st = ami_client_login(c, argv[3], argv[4])) != AMI_OK) return die("login", st);
    printf("logged in as %s\n", argv[3]);

    ami_message *ping = ami_message_new("Ping"), *resp = NULL;
    if ((st = ami_client_send(c, ping, &resp, -1)) != AMI_OK) return die("ping", st);
    printf("Ping: %s at %s\n", ami_message_get(resp, "Ping"), ami_message_get(resp, "Timestamp"));
    ami_message_free(resp);
    ami_message_free(ping);

    const char *cmd[] = {"Command", "core show version", NULL};
    if ((st = ami_client_action(c, "Command", cmd, &resp, -1)) != AMI_OK) return die("command", st);
    char *output = ami_message_join(resp, "Output", "\n");
    printf("core show version:\n%s\n", output);
    ami_string_free(output);
    ami_message_free(resp);

    ami_client_logoff(c);
    ami_client_free(c);
    return 0;
}
