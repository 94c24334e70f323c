/* A classic libami program, as old ones were written: it opens its own socket,
 * reads the banner itself, logs in with ami_login, then makes ONE call of the
 * classic API (the case named on the command line) and prints what came back:
 * each packet of the group as "  [N]", each item as "    name: value".
 * The cases and arguments are those with which the original libami 2.0.1 was
 * observed (../shared/libami-original/results.txt); tests/classic_fidelity.rs
 * runs every case against ami-sim and compares the shapes with it.
 *   usage: libami_calls HOST PORT USER SECRET CASE     (CASE "list": the names) */
#define _DEFAULT_SOURCE
#include <ami/ami.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd;
static const char *originate_vars[] = {"A=1", "B=2", NULL};

static ast_packet *custom_ping(void) {
    ast_packet *cmd = ami_add_new_packet_item(NULL, "Action", "Ping");
    ami_add_new_packet_item(cmd, "ActionID", "cust-1");
    ast_packet *r = ami_custom(fd, cmd);
    ami_destroy_packet(cmd);
    return r;
}

static ast_packet *custom_free_form(void) {
    ast_packet *cmd = ami_add_new_packet_item(NULL, "Action", "CoreSettings");
    ast_packet *r = ami_custom_free_form(fd, cmd);
    ami_destroy_packet(cmd);
    return r;
}

static ast_packet *channels_some(void) {
    usleep(300000); /* the calls of the originate cases come up */
    return ami_channels(fd, NULL);
}

/* Every case: G(name, call returning a packet group), S(name, call returning a number). */
#define CASES(G, S) \
    S("ping", ami_ping(fd, NULL)) \
    S("ping(id)", ami_ping(fd, "p1")) \
    S("set_events", ami_set_events(fd, 0, 0, 0, 0, 0, 0, 0, NULL)) \
    G("dbput", ami_dbput(fd, "fam", "k1", "v1", NULL)) \
    G("dbput(id)", ami_dbput(fd, "fam", "k2", "v2", "D1")) \
    G("dbget", ami_dbget(fd, "fam", "k1", NULL)) \
    G("dbget(id)", ami_dbget(fd, "fam", "k2", "D2")) \
    G("dbget missing", ami_dbget(fd, "fam", "nope", NULL)) \
    G("dbget empty key", ami_dbget(fd, "fam", "", NULL)) \
    G("dbdel", ami_dbdel(fd, "fam", "k1", NULL)) \
    G("dbdeltree", ami_dbdeltree(fd, "fam", NULL, NULL)) \
    G("command", ami_command(fd, "core show uptime", "C1")) \
    G("server_version", ami_server_version(fd, "core show version", NULL)) \
    G("dbshow", ami_dbshow(fd, NULL)) \
    G("setvar global", ami_setvar(fd, "GV", "42", NULL, NULL)) \
    G("getvar global", ami_getvar(fd, "GV", NULL, NULL)) \
    G("getvar missing", ami_getvar(fd, "NOPE_VAR", NULL, "G2")) \
    G("getvar bad channel", ami_getvar(fd, "GV", "SIP/none-0001", NULL)) \
    G("list_commands", ami_list_commands(fd, NULL)) \
    G("channels (none)", ami_channels(fd, NULL)) \
    G("sip_peers", ami_sip_peers(fd, NULL)) \
    G("sip_show_peer", ami_sip_show_peer(fd, "2001", NULL)) \
    G("agents", ami_agents(fd, NULL)) \
    G("parked_calls", ami_parked_calls(fd, NULL)) \
    G("extension_state", ami_extension_state(fd, "100", "default", NULL)) \
    G("mailbox_count", ami_mailbox_count(fd, 100, "default", NULL)) \
    G("mailbox_status", ami_mailbox_status(fd, 100, "default", NULL)) \
    G("queue_status", ami_queue_status(fd, NULL, NULL)) \
    G("queue_status(q)", ami_queue_status(fd, "support", "Q1")) \
    G("queue_add", ami_queue_add(fd, "Local/300@default", "support", NULL)) \
    G("queue_pause", ami_queue_pause(fd, "Local/300@default", "support", 1, NULL)) \
    G("queue_remove", ami_queue_remove(fd, "Local/300@default", "support", NULL)) \
    G("originate sync", ami_originate(fd, "Local/100@default", "default", "100", 1, NULL, NULL, 5000, "Probe <1>", (const char **)originate_vars, NULL, 0, "O1")) \
    G("originate async", ami_originate(fd, "Local/100@default", NULL, NULL, 0, "Wait", "2", 5000, NULL, NULL, NULL, 1, NULL)) \
    G("channels (some)", channels_some()) \
    G("absolute_timeout", ami_absolute_timeout(fd, "Local/nope-0001;1", 10, NULL)) \
    G("redirect", ami_redirect(fd, "Local/nope-0001;1", "default", "200", 1, NULL, NULL)) \
    G("hangup bad", ami_hangup(fd, "Local/nope-0001;1", NULL)) \
    G("monitor", ami_monitor(fd, "Local/nope-0001;1", "f", "wav", 1, NULL)) \
    G("agent_logoff", ami_agent_logoff(fd, 1, 0, NULL)) \
    G("custom Ping", custom_ping()) \
    G("custom_free_form CoreSettings", custom_free_form()) \
    G("bad socket", ami_dbget(-1, "fam", "k", NULL)) \
    G("NULL family", ami_dbget(fd, NULL, "k", NULL))

static void print_group(const char *name, ast_packet *g) {
    printf("== %s\n", name);
    int i = 0;
    for (ast_packet *p = g; p; p = p->next, i++) {
        printf("  [%d]\n", i);
        for (ast_packet_item *it = p->first_item; it; it = it->next) printf("    %s: %s\n", it->name, it->value);
    }
    if (!g) printf("  (NULL)\n");
    ami_destroy_packet_group(g);
}

/* Makes the call of case `want` and prints its result. */
static void run(const char *want) {
#define RUN_G(name, call) if (strcmp(want, name) == 0) { print_group(name, call); return; }
#define RUN_S(name, call) if (strcmp(want, name) == 0) { printf("== %s -> %d\n", name, call); return; }
    CASES(RUN_G, RUN_S)
}

static int known(const char *want) {
#define KNOWN(name, call) if (strcmp(want, name) == 0) return 1;
    CASES(KNOWN, KNOWN)
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
#define NAME(name, call) puts(name);
        CASES(NAME, NAME)
        return 0;
    }
    if (argc != 6 || !known(argv[5])) {
        fprintf(stderr, "usage: %s HOST PORT USER SECRET CASE|list\n", argv[0]);
        return 2;
    }

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("connect");
        return 1;
    }
    for (char ch = 0; ch != '\n';) /* the banner, read by hand as old programs did */
        if (read(fd, &ch, 1) != 1) return 1;
    ast_packet *login = ami_login(fd, argv[3], argv[4], "off", "L1");
    const char *ok = ami_get_packet_item_value(login, "Response");
    int logged_in = ok && strcmp(ok, "Success") == 0;
    ami_destroy_packet_group(login);
    if (!logged_in) {
        fprintf(stderr, "login failed\n");
        return 1;
    }

    run(argv[5]);
    ami_logoff(fd, NULL);
    close(fd);
    return 0;
}
