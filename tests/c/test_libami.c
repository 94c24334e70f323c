/* The classic libami API (../shared/LIBAMI.md) the way old programs use it:
 * the program opens the TCP socket itself and passes the descriptor. Every
 * function, against ami-sim, under AddressSanitizer. */
#define _POSIX_C_SOURCE 200809L
#include <ami/ami.h>
#include <ami.h> /* for ami_last_error in CHECK */
#include "check.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

_Static_assert(sizeof(ast_packet_item) == 392, "ast_packet_item layout");
_Static_assert(offsetof(ast_packet_item, value) == 128, "ast_packet_item.value");
_Static_assert(offsetof(ast_packet_item, next) == 384, "ast_packet_item.next");
_Static_assert(sizeof(ast_packet) == 16, "ast_packet layout");
_Static_assert(offsetof(ast_packet, next) == 8, "ast_packet.next");
_Static_assert(MAX_AST_PACKET_ITEM_NAME_SIZE == 128 && MAX_AST_PACKET_ITEM_VALUE_SIZE == 256, "sizes");
_Static_assert(AMI_NET_TIMEOUT == 500, "timeout");

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Old programs often read the banner themselves. */
static void read_banner_myself(int fd) {
    char c, line[128];
    size_t n = 0;
    while (n < sizeof line - 1 && read(fd, &c, 1) == 1 && c != '\n') line[n++] = c;
    line[n] = 0;
    CHECK(strncmp(line, "Asterisk Call Manager/", 22) == 0);
}

static const char *val(ast_packet *p, const char *key) {
    const char *v = ami_get_packet_item_value(p, key);
    return v ? v : "(none)";
}

static int is(ast_packet *p, const char *key, const char *want) {
    return strcmp(val(p, key), want) == 0;
}

static int group_size(ast_packet *p) {
    int n = 0;
    for (; p; p = p->next) n++;
    return n;
}

static ast_packet *last_of(ast_packet *p) {
    while (p && p->next) p = p->next;
    return p;
}

static void test_packets(void) {
    ast_packet *p = ami_create_packet();
    CHECK(p && p->first_item == NULL && p->next == NULL);
    CHECK(ami_add_new_packet_item(p, "Action", "Ping") == p);
    CHECK(ami_add_new_packet_item(p, "", "x") == NULL && ami_add_new_packet_item(p, NULL, "x") == NULL);
    ast_packet_item *it = ami_create_packet_item("ActionID", "42");
    CHECK(ami_add_packet_item_to_packet(p, it) == p);
    ast_packet_item *extra = ami_create_packet_item("Extra", NULL);
    CHECK(ami_add_packet_item(p->first_item, extra) == extra);
    CHECK(is(p, "actionid", "42") && is(p, "EXTRA", ""));
    CHECK(ami_get_packet_item(p, "Action") == p->first_item);
    CHECK(ami_get_packet_item(p, "Nope") == NULL && ami_get_packet_item_value(NULL, "x") == NULL);

    char longv[400];
    memset(longv, 'v', sizeof longv - 1);
    longv[sizeof longv - 1] = 0;
    ast_packet_item *big = ami_create_packet_item("Big", longv);
    CHECK(big && strlen(big->value) == 255); /* cut, never overflowed */
    char longn[200];
    memset(longn, 'n', sizeof longn - 1);
    longn[sizeof longn - 1] = 0;
    ast_packet_item *bign = ami_create_packet_item(longn, "v");
    CHECK(bign && strlen(bign->name) == 127);
    free(bign); /* items come from malloc: old programs free() them */
    CHECK(ami_create_packet_item(NULL, "v") == NULL);
    ami_add_packet_item_to_packet(p, big);

    ami_unlink_packet_item(p, extra);
    CHECK(ami_get_packet_item(p, "Extra") == NULL);
    free(extra);
    ami_destroy_packet_item_byname(p, "big");
    CHECK(ami_get_packet_item(p, "Big") == NULL);
    ami_destroy_packet_item(p, ami_get_packet_item(p, "ActionID"));
    CHECK(ami_get_packet_item(p, "ActionID") == NULL && is(p, "Action", "Ping"));

    ast_packet *q = ami_add_new_packet_item(NULL, "Response", "Success");
    CHECK(ami_add_packet(p, q) == p && p->next == q);
    CHECK(ami_add_packet(NULL, q) == NULL);
    ast_packet *copy = ami_duplicate_packet(p);
    CHECK(group_size(copy) == 2 && is(copy, "Action", "Ping") && is(copy->next, "Response", "Success"));
    ast_packet *m2 = ami_add_new_packet_item(NULL, "Message", "merged");
    ami_merge_packets(copy, m2);
    CHECK(is(copy, "Message", "merged"));
    ami_destroy_packet_group(copy);
    ami_destroy_packet_group(p);
    ami_destroy_packet(NULL);
    ami_destroy_packet_group(NULL);

    ast_packet *parsed = ami_parse_packet("Asterisk Call Manager/5.0.2\r\nResponse: Success\r\nActionID: ami_7\r\nMessage: a: b\r\n\r\n");
    CHECK(parsed && is(parsed, "Response", "Success") && is(parsed, "ActionID", "7") && is(parsed, "Message", "a: b"));
    CHECK(strcmp(parsed->first_item->name, "Response") == 0); /* the banner never leaks in */
    ami_destroy_packet(parsed);
    parsed = ami_parse_packet("Response: Pong\r\nActionID: ami_\r\n");
    CHECK(parsed && ami_get_packet_item(parsed, "ActionID") == NULL);
    ami_destroy_packet(parsed);
    CHECK(ami_parse_packet("") == NULL && ami_parse_packet(NULL) == NULL);

    char s1[] = "  \t padded \t ", s2[] = "x \t", s3[] = "line\r\n\n", s4[] = " y";
    ami_trim(s1);
    ami_rtrim(s2);
    ami_chomp(s3);
    ami_ltrim(s4);
    CHECK(strcmp(s1, "padded") == 0 && strcmp(s2, "x") == 0 && strcmp(s3, "line") == 0 && strcmp(s4, "y") == 0);
    ami_trim(NULL);
}

static int login(int fd) {
    ast_packet *r = ami_login(fd, "admin", "admin", NULL, "login-1");
    int ok = r && is(r, "Response", "Success");
    CHECK(ok);
    CHECK(r && strcmp(r->first_item->name, "Action") == 0 && is(r, "Action", "Login"));
    CHECK(is(r, "ActionID", "login-1")); /* exactly the program's ActionID */
    CHECK(is(r, "Message", "Authentication accepted"));
    ami_destroy_packet_group(r);
    return ok;
}

static int callback_events;
static int originate_responses;

static void on_event(ast_packet *p, void *data) {
    CHECK(data == (void *)&callback_events);
    callback_events++;
    if (strcmp(val(p, "Event"), "OriginateResponse") == 0) originate_responses++;
}

static void test_session(unsigned short port, int read_banner) {
    int fd = tcp_connect(port);
    if (read_banner) read_banner_myself(fd);
    CHECK(ami_sock_writable(fd, 1000) == 1);
    if (!login(fd)) return;
    CHECK(ami_ping(fd, "p1") == 1);
    CHECK(ami_ping(fd, NULL) == 1);
    CHECK(ami_set_events(fd, 0, 1, 0, 0, 0, 0, 1, "ev") == 1);
    ast_packet *r = ami_list_commands(fd, NULL);
    CHECK(is(r, "Action", "ListCommands") && strcmp(val(r, "Originate"), "(none)") != 0);
    CHECK(ami_get_packet_item(r, "ActionID") == NULL); /* none when the program passed NULL */
    ami_destroy_packet_group(r);

    r = ami_command(fd, "core show uptime", "c1");
    CHECK(is(r, "Action", "Command") && is(r, "Response", "Success") && is(r, "Message", "Command successfully sent"));
    CHECK(strncmp(val(r, "Chunk1"), "System uptime: ", 15) == 0 && ami_get_packet_item(r, "ActionID") == NULL);
    ami_destroy_packet_group(r);
    r = ami_server_version(fd, "show version", "v1"); /* the command is not used, as before */
    CHECK(is(r, "Action", "Command") && is(r, "Response", "Success") && strchr(val(r, "Version"), '.') != NULL);
    CHECK(is(r, "ActionID", "v1"));
    ami_destroy_packet_group(r);

    r = ami_dbput(fd, "compat", "k", "v1", NULL);
    CHECK(is(r, "Response", "Success"));
    ami_destroy_packet_group(r);
    r = ami_dbget(fd, "compat", "k", "g1");
    /* One packet: the response and the DBGetResponse's items, the list read whole. */
    CHECK(group_size(r) == 1 && is(r, "Action", "DBGet") && is(r, "Response", "Success"));
    CHECK(is(r, "Family", "compat") && is(r, "Key", "k") && is(r, "Val", "v1") && !ami_get_packet_item(r, "Event"));
    /* DBGetComplete was read too: the next packet on the socket is the next answer. */
    CHECK(ami_sock_send(fd, "Action: Ping\r\nActionID: after-dbget\r\n\r\n") == 0);
    char *next = ami_sock_receive(fd);
    CHECK(next && strstr(next, "ActionID: after-dbget\r\n"));
    free(next);
    ami_destroy_packet_group(r);
    r = ami_dbshow(fd, "s1");
    CHECK(is(r, "Action", "DBShow") && is(r, "Response", "Success") && is(r, "ActionID", "s1"));
    int found = 0;
    for (ast_packet_item *i = r ? r->first_item : NULL; i && i->next && i->next->next; i = i->next)
        if (!strcmp(i->name, "Family") && !strcmp(i->value, "compat") && !strcmp(i->next->name, "Key") &&
            !strcmp(i->next->value, "k") && !strcmp(i->next->next->name, "Value") && !strcmp(i->next->next->value, "v1"))
            found++;
    CHECK(found == 1);
    ami_destroy_packet_group(r);
    r = ami_dbdel(fd, "compat", "k", NULL);
    CHECK(is(r, "Action", "DBDel") && is(r, "Response", "Success"));
    ami_destroy_packet_group(r);
    r = ami_dbdeltree(fd, "compat", NULL, NULL);
    CHECK(is(r, "Action", "DBDeltree") && is(r, "Response", "Error")); /* nothing left: the server's own error */
    ami_destroy_packet_group(r);

    r = ami_queue_add(fd, "PJSIP/1001", "support", NULL);
    CHECK(is(r, "Response", "Success"));
    ami_destroy_packet_group(r);
    r = ami_queue_pause(fd, "PJSIP/1001", "support", 1, NULL);
    CHECK(is(r, "Message", "Interface paused successfully"));
    ami_destroy_packet_group(r);
    r = ami_queue_status(fd, "support", NULL);
    CHECK(group_size(r) == 5 && is(last_of(r), "Event", "QueueStatusComplete"));
    ami_destroy_packet_group(r);
    r = ami_queue_remove(fd, "PJSIP/1001", "support", NULL);
    CHECK(is(r, "Response", "Success"));
    ami_destroy_packet_group(r);
    r = ami_agent_callback_login(fd, 1001, "100", "default", 1, 10, NULL);
    CHECK(is(r, "Response", "Error")); /* gone from current Asterisk */
    ami_destroy_packet_group(r);
    r = ami_agent_logoff(fd, 1001, 0, NULL);
    CHECK(is(r, "Response", "Error"));
    ami_destroy_packet_group(r);

    r = ami_setvar(fd, "COMPAT", "yes", NULL, NULL);
    CHECK(is(r, "Response", "Success"));
    ami_destroy_packet_group(r);
    r = ami_getvar(fd, "COMPAT", NULL, NULL);
    CHECK(is(r, "Value", "yes"));
    ami_destroy_packet_group(r);

    ami_set_event_cb(on_event, &callback_events);
    const char *vars[] = {"A=1", "B=2", NULL};
    r = ami_originate(fd, "Local/100@default", NULL, NULL, 0, "Wait", "5", 0, NULL, vars, NULL, 1, "o1");
    CHECK(is(r, "Response", "Success") && is(r, "ActionID", "o1"));
    ami_destroy_packet_group(r);
    r = ami_channels(fd, NULL);
    CHECK(group_size(r) >= 4 && is(last_of(r), "Event", "StatusComplete"));
    char channel[128] = "none"; /* our call's first leg (an earlier call may still be ending) */
    for (ast_packet *x = r->next; x; x = x->next) {
        const char *c = val(x, "Channel");
        if (strncmp(c, "Local/100@default-", 18) == 0 && strstr(c, ";1")) snprintf(channel, sizeof channel, "%s", c);
    }
    CHECK(strcmp(channel, "none") != 0);
    ami_destroy_packet_group(r);
    r = ami_absolute_timeout(fd, channel, 60, NULL);
    CHECK(is(r, "Message", "Timeout Set"));
    ami_destroy_packet_group(r);
    r = ami_redirect(fd, channel, "default", "200", 1, NULL, NULL);
    CHECK(is(r, "Message", "Redirect successful"));
    ami_destroy_packet_group(r);
    r = ami_monitor(fd, channel, "rec", "wav", 1, NULL);
    CHECK(is(r, "Response", "Error")); /* the simulator has no Monitor: the server's error */
    ami_destroy_packet_group(r);
    r = ami_monitor_change(fd, channel, "rec2", NULL);
    CHECK(is(r, "Response", "Error"));
    ami_destroy_packet_group(r);
    r = ami_monitor_stop(fd, channel, NULL);
    CHECK(is(r, "Response", "Error"));
    ami_destroy_packet_group(r);
    r = ami_hangup(fd, channel, NULL);
    CHECK(is(r, "Message", "Channel Hungup"));
    ami_destroy_packet_group(r);
    r = ami_originate(fd, "Local/200@default", "default", "200", 1, NULL, NULL, 5000, "Test <100>", NULL, "acct", 0, NULL);
    CHECK(is(r, "Response", "Success"));
    ami_destroy_packet_group(r);
    for (int i = 0; i < 20 && originate_responses == 0; i++) {
        ami_sock_receive_event(fd); /* the async OriginateResponse goes to the callback */
    }
    CHECK(originate_responses >= 1);

    r = ami_sip_peers(fd, NULL);
    CHECK(group_size(r) == 3 && is(last_of(r), "Event", "PeerlistComplete"));
    ami_destroy_packet_group(r);
    r = ami_sip_show_peer(fd, "2001", NULL);
    CHECK(r != NULL && is(r, "Action", "SIPshowpeer"));
    ami_destroy_packet_group(r);
    r = ami_agents(fd, NULL);
    CHECK(group_size(r) == 2 && is(last_of(r), "Event", "AgentsComplete"));
    ami_destroy_packet_group(r);
    r = ami_parked_calls(fd, NULL);
    CHECK(group_size(r) == 2);
    ami_destroy_packet_group(r);
    r = ami_extension_state(fd, "100", "default", NULL);
    CHECK(is(r, "StatusText", "Idle"));
    ami_destroy_packet_group(r);
    r = ami_mailbox_count(fd, 100, "default", NULL);
    CHECK(is(r, "Mailbox", "100@default") && is(r, "NewMessages", "0"));
    ami_destroy_packet_group(r);
    r = ami_mailbox_status(fd, 100, "default", NULL);
    CHECK(is(r, "Waiting", "0"));
    ami_destroy_packet_group(r);

    ast_packet *cmd = ami_add_new_packet_item(NULL, "Action", "Ping");
    ami_add_new_packet_item(cmd, "ActionID", "custom-1");
    r = ami_custom(fd, cmd);
    CHECK(is(r, "Ping", "Pong") && is(r, "ActionID", "custom-1"));
    ami_destroy_packet_group(r);
    ami_destroy_packet(cmd);
    cmd = ami_add_new_packet_item(NULL, "Action", "CoreSettings");
    ami_add_new_packet_item(cmd, "ActionID", "ff-1");
    r = ami_custom_free_form(fd, cmd); /* the text less its first two lines (Response, ActionID) */
    CHECK(group_size(r) == 1 && is(r, "Action", "CustomFreeForm") && is(r, "Message", "Command successfully sent"));
    CHECK(strncmp(val(r, "Chunk1"), "AMIversion: ", 12) == 0 && strstr(val(r, "Chunk1"), "\r\nAsteriskVersion: "));
    ami_destroy_packet_group(r);
    ami_destroy_packet(cmd);

    /* The raw layer. */
    CHECK(ami_sock_send(fd, "Action: Ping\r\nActionID: raw-1\r\n\r\n") == 0);
    CHECK(ami_sock_readable(fd, 2000) == 1);
    char *raw = ami_sock_receive(fd);
    CHECK(raw && strstr(raw, "Ping: Pong\r\n") && strstr(raw, "ActionID: raw-1\r\n"));
    free(raw); /* the caller's, from malloc */
    CHECK(ami_sock_send(fd, "") == -1 && ami_sock_send(fd, NULL) == -1);

    ami_set_event_cb(NULL, NULL);
    ami_logoff(fd, NULL);
    close(fd);
}

static void test_legacy_command_form(void) {
    sim s = sim_start("--legacy-command", "--version", "2.10.6");
    int fd = tcp_connect(s.port);
    login(fd);
    ast_packet *r = ami_command(fd, "core show uptime", NULL);
    CHECK(is(r, "Response", "Success") && strncmp(val(r, "Chunk1"), "System uptime: ", 15) == 0);
    CHECK(strstr(val(r, "Chunk1"), "Last reload: ") != NULL);
    ami_destroy_packet_group(r);
    /* The raw layer gives the legacy reply as it was sent, body and end marker. */
    CHECK(ami_sock_send(fd, "Action: Command\r\nCommand: core show uptime\r\nActionID: raw-c\r\n\r\n") == 0);
    char *raw = ami_sock_receive(fd);
    const char *head = "Response: Follows\r\nPrivilege: Command\r\nActionID: raw-c\r\nSystem uptime: ";
    const char *tail = "\nLast reload: ";
    CHECK(raw && strncmp(raw, head, strlen(head)) == 0 && strstr(raw, tail) != NULL);
    CHECK(raw && strlen(raw) > 17 && strcmp(raw + strlen(raw) - 17, "--END COMMAND--\r\n") == 0);
    free(raw);
    /* Output longer than an item: chunks of at most 255 bytes, nothing lost. */
    for (int i = 0; i < 12; i++) {
        char key[16];
        snprintf(key, sizeof key, "key%02d", i);
        ami_destroy_packet_group(ami_dbput(fd, "long", key, "a fairly long value to make the output long", NULL));
    }
    r = ami_dbshow(fd, NULL);
    int values = 0;
    for (ast_packet_item *i = r->first_item; i; i = i->next)
        values += strcmp(i->name, "Value") == 0 && strcmp(i->value, "a fairly long value to make the output long") == 0;
    CHECK(values == 12);
    ami_destroy_packet_group(r);
    /* Output longer than an item: chunks of at most 255 bytes, nothing lost. */
    r = ami_command(fd, "database show", NULL);
    size_t total = 0;
    int chunks = 0;
    for (ast_packet_item *i = r->first_item; i; i = i->next)
        if (strncmp(i->name, "Chunk", 5) == 0) {
            CHECK(strlen(i->value) <= 255);
            total += strlen(i->value);
            chunks++;
        }
    CHECK(chunks >= 4 && total > 800);
    ami_destroy_packet_group(r);
    close(fd);
    sim_stop(s);
}

static void test_bad_input(unsigned short port) {
    ast_packet *r = ami_login(-1, "admin", "admin", NULL, NULL);
    CHECK(is(r, "Response", "Error") && is(r, "Message", "Invalid socket"));
    ami_destroy_packet_group(r);
    r = ami_command(9999, "core show uptime", NULL);
    CHECK(is(r, "Response", "Error"));
    ami_destroy_packet_group(r);
    r = ami_login(3, NULL, "x", NULL, NULL);
    CHECK(is(r, "Message", "Invalid user"));
    ami_destroy_packet_group(r);
    CHECK(ami_ping(-1, NULL) == 0 && ami_set_events(-1, 1, 1, 1, 1, 1, 1, 1, NULL) == 0);
    CHECK(ami_sock_readable(-1, 0) == -1 && ami_sock_writable(-1, 0) == -1 && ami_sock_receive(-1) == NULL);
    ami_sock_receive_event(-1);
    ami_logoff(-1, NULL);

    int fd = tcp_connect(port);
    login(fd);
    r = ami_getvar(fd, "X\r\nAction: Logoff", NULL, NULL); /* no injection */
    CHECK(is(r, "Response", "Error") && strstr(val(r, "Message"), "Invalid argument") != NULL);
    ami_destroy_packet_group(r);
    char longcmd[600];
    memset(longcmd, 'x', sizeof longcmd - 1);
    longcmd[sizeof longcmd - 1] = 0;
    r = ami_command(fd, longcmd, NULL); /* longer than 255: sent whole, answered */
    CHECK(is(r, "Response", "Success") && strlen(val(r, "Chunk1")) == 255 && strlen(val(r, "Chunk2")) > 0);
    ami_destroy_packet_group(r);

    /* The original's checks before sending: its messages, no Action item. */
    struct { ast_packet *r; const char *message; } refused[] = {
        {ami_dbget(fd, NULL, "k", NULL), "Invalid family"},
        {ami_dbget(fd, "f", "", NULL), "Invalid key"},
        {ami_dbput(fd, "f", "k", NULL, NULL), "Invalid val"},
        {ami_dbdeltree(fd, "", NULL, NULL), "Invalid family"},
        {ami_dbget(-1, "f", "k", NULL), "Invalid socket"},
        {ami_queue_add(fd, "PJSIP/1", NULL, NULL), "Invalid queue"},
        {ami_queue_remove(fd, NULL, "q", NULL), "Invalid interface"},
        {ami_agent_logoff(fd, 0, 0, NULL), "Invalid agent_id"},
        {ami_command(fd, "", NULL), "Invalid command"},
        {ami_custom(fd, NULL), "Invalid command"},
        {ami_custom_free_form(fd, NULL), "Invalid command"},
        {ami_absolute_timeout(fd, "Local/x", 0, NULL), "Invalid timeout"},
        {ami_getvar(fd, NULL, NULL, NULL), "Invalid varname"},
        {ami_setvar(fd, "V", "", NULL, NULL), "Invalid val"},
        {ami_redirect(fd, "Local/x", "default", "100", 0, NULL, NULL), "Invalid priority"},
        {ami_originate(fd, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL), "Invalid channel"},
        {ami_monitor_stop(fd, NULL, NULL), "Invalid filename"},
        {ami_monitor_change(fd, "Local/x", NULL, NULL), "Invalid filename"},
        {ami_sip_show_peer(fd, "", NULL), "Invalid peer"},
        {ami_extension_state(fd, "100", NULL, NULL), "Invalid context"},
        {ami_mailbox_count(fd, -1, "default", NULL), "Invalid mailbox"},
        {ami_mailbox_status(fd, 1, "", NULL), "Invalid context"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK(group_size(refused[i].r) == 1 && !ami_get_packet_item(refused[i].r, "Action"));
        CHECK(is(refused[i].r, "Response", "Error") && is(refused[i].r, "Message", refused[i].message));
        ami_destroy_packet_group(refused[i].r);
    }
    /* Originate's own checks come after its Action item, as before. */
    r = ami_originate(fd, "Local/100@default", "default", NULL, 1, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL);
    CHECK(is(r, "Action", "Originate") && is(r, "Response", "Error") &&
          is(r, "Message", "If one of Exten, Priority, or Context is used, all three must be used"));
    ami_destroy_packet_group(r);
    r = ami_originate(fd, "Local/100@default", NULL, NULL, 0, NULL, "5", 0, NULL, NULL, NULL, 0, NULL);
    CHECK(is(r, "Message", "Data argument requires the Application argument"));
    ami_destroy_packet_group(r);

    /* A reply that never comes: an error packet, no hang past the timeout. */
    ast_packet *f = ami_add_new_packet_item(NULL, "Action", "SimFault");
    ami_add_new_packet_item(f, "Mode", "stall");
    ami_destroy_packet_group(ami_custom(fd, f));
    ami_destroy_packet(f);
    double t0 = now();
    r = ami_list_commands(fd, NULL);
    CHECK(is(r, "Response", "Error") && strstr(val(r, "Message"), "timed out") != NULL);
    CHECK(now() - t0 < 5.0);
    ami_destroy_packet_group(r);
    CHECK(ami_ping(fd, NULL) == 0);
    close(fd);

    /* A server that closes mid-reply. */
    fd = tcp_connect(port);
    login(fd);
    f = ami_add_new_packet_item(NULL, "Action", "SimFault");
    ami_add_new_packet_item(f, "Mode", "close-mid-message");
    ami_destroy_packet_group(ami_custom(fd, f));
    ami_destroy_packet(f);
    r = ami_command(fd, "core show version", NULL);
    CHECK(is(r, "Response", "Error") && strstr(val(r, "Message"), "closed") != NULL);
    ami_destroy_packet_group(r);
    CHECK(ami_ping(fd, NULL) == 0);
    close(fd);

    /* A new socket on a reused descriptor number inherits nothing. */
    fd = tcp_connect(port);
    CHECK(ami_sock_readable(fd, 2000) == 1); /* banner waiting, unread */
    int fd2 = tcp_connect(port);
    dup2(fd2, fd); /* fd now names a different socket */
    close(fd2);
    CHECK(login(fd));
    close(fd);
}

static long storm_seen, storm_out_of_order;

static void on_storm(ast_packet *p, void *data) {
    (void)data;
    if (strcmp(val(p, "Event"), "SimFlood") != 0) return;
    storm_seen++;
    if (atol(val(p, "Seq")) != storm_seen) storm_out_of_order++;
}

static void test_event_storm(unsigned short port) {
    int fd = tcp_connect(port);
    read_banner_myself(fd);
    ast_packet *r = ami_login(fd, "admin", "admin", "off", NULL);
    ami_destroy_packet_group(r);
    ami_set_event_cb(on_storm, NULL);
    CHECK(ami_sock_send(fd, "Action: SimFlood\r\nCount: 100000\r\nSize: 300\r\n\r\n") == 0);
    double t0 = now();
    while (storm_seen < 100000 && now() - t0 < 60) ami_sock_receive_event(fd);
    CHECK(storm_seen == 100000);
    CHECK(storm_out_of_order == 0);
    printf("event storm: 100000 events through ami_sock_receive_event in %.2f s\n", now() - t0);
    ami_set_event_cb(NULL, NULL);
    close(fd);
}

int main(void) {
    sim s = sim_start(NULL, NULL, NULL);
    test_packets();
    test_session(s.port, 1);
    test_session(s.port, 0);
    test_legacy_command_form();
    test_bad_input(s.port);
    test_event_storm(s.port);
    sim_stop(s);
    return checks_report();
}
