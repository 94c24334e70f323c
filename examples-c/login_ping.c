/* Connect, log in, ping, run a CLI command, log off.
 * usage: login_ping [--http PATH] HOST PORT USER SECRET
 * --http /rawman or /arawman: the same calls over Asterisk's HTTP server
 * (port 8088); only the options differ. */
#include <ami.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const char *what, int status) {
    fprintf(stderr, "%s: %s (%s)\n", what, ami_strerror(status), ami_last_error());
    return 1;
}

int main(int argc, char **argv) {
    const char *http_path = NULL;
    if (argc == 7 && strcmp(argv[1], "--http") == 0) {
        http_path = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc != 5) {
        fprintf(stderr, "usage: %s [--http PATH] HOST PORT USER SECRET\n", argv[0]);
        return 2;
    }
    ami_options *o = ami_options_new();
    if (http_path) {
        int st = ami_options_set(o, "transport", "http");
        if (st == AMI_OK) st = ami_options_set(o, "http_path", http_path);
        if (st != AMI_OK) return die("options", st);
    }
    ami_client *c = ami_client_new(o);
    ami_options_free(o);
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
