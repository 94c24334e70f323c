/* Every function of ../shared/API.md against ami-sim, written only from that
 * contract. Run under AddressSanitizer by tests/c_api.rs. */
#define _POSIX_C_SOURCE 200809L
#include "ami.h"
#include "check.h"

#include <poll.h>
#include <stdatomic.h>
#include <time.h>

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static ami_client *logged_in(unsigned short port, ami_options *o) {
    ami_client *c = ami_client_new(o);
    CHECK(c != NULL);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", port), AMI_OK);
    CHECK_STATUS(ami_client_login(c, "admin", "admin"), AMI_OK);
    return c;
}

static void test_library(void) {
    CHECK(ami_version() != NULL && strlen(ami_version()) > 0);
    int codes[] = {AMI_OK, AMI_EINVAL, AMI_ECONNECT, AMI_ENOTAMI, AMI_EAUTH, AMI_ETIMEDOUT,
                   AMI_EDISCONNECTED, AMI_EPROTOCOL, AMI_ETLS, AMI_ECLOSED, AMI_EDEADLOCK, AMI_EINTERNAL};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(ami_strerror(codes[i]) != NULL);
        if (i > 0) CHECK(strcmp(ami_strerror(codes[i]), ami_strerror(codes[i - 1])) != 0);
    }
    CHECK(strstr(ami_strerror(AMI_ETIMEDOUT), "AMI_ETIMEDOUT") != NULL);
    CHECK(ami_strerror(12345) != NULL);
    CHECK(ami_last_error() != NULL);
    ami_string_free(NULL);
    CHECK(AMI_EINTERNAL == 99 && AMI_EDEADLOCK == 10 && AMI_STATE_CLOSED == 5);
}

static void test_options(void) {
    ami_options *o = ami_options_new();
    CHECK(o != NULL);
    CHECK_STATUS(ami_options_set(o, "action_timeout_ms", "2500"), AMI_OK);
    CHECK_STATUS(ami_options_set(o, "events", "call,system"), AMI_OK);
    CHECK_STATUS(ami_options_set(o, "overflow", "block"), AMI_OK);
    CHECK_STATUS(ami_options_set(o, "no_such_key", "1"), AMI_EINVAL);
    CHECK(strstr(ami_last_error(), "no_such_key") != NULL);
    CHECK_STATUS(ami_options_set(o, "connect_timeout_ms", "soon"), AMI_EINVAL);
    CHECK(strstr(ami_last_error(), "connect_timeout_ms") != NULL);
    CHECK_STATUS(ami_options_set(o, "auth", "kerberos"), AMI_EINVAL);
    CHECK_STATUS(ami_options_set(NULL, "auth", "md5"), AMI_EINVAL);
    CHECK_STATUS(ami_options_set(o, NULL, "1"), AMI_EINVAL);
    CHECK_STATUS(ami_options_set(o, "tls", NULL), AMI_EINVAL);
    ami_options_free(o);
    ami_options_free(NULL);
}

static void test_messages(void) {
    CHECK(ami_message_new(NULL) == NULL);
    CHECK(ami_message_new("") == NULL);
    CHECK(ami_message_new("Ping\r\nAction: Logoff") == NULL);
    ami_message *m = ami_message_new("Originate");
    CHECK(m != NULL);
    CHECK_STATUS(ami_message_add(m, "Channel", "Local/100@default"), AMI_OK);
    CHECK_STATUS(ami_message_add(m, "Variable", "a=1"), AMI_OK);
    CHECK_STATUS(ami_message_add(m, "Variable", "b=2"), AMI_OK);
    CHECK_STATUS(ami_message_add(m, "Variable", "x\r\nAction: Logoff"), AMI_EINVAL);
    CHECK_STATUS(ami_message_add(m, "Bad\nName", "v"), AMI_EINVAL);
    CHECK_STATUS(ami_message_add(m, "", "v"), AMI_EINVAL);
    CHECK_STATUS(ami_message_add(m, NULL, "v"), AMI_EINVAL);
    CHECK_STATUS(ami_message_add(m, "N", NULL), AMI_EINVAL);
    CHECK_STATUS(ami_message_add(NULL, "N", "v"), AMI_EINVAL);
    CHECK(ami_message_count(m) == 4);
    CHECK(strcmp(ami_message_get(m, "CHANNEL"), "Local/100@default") == 0);
    CHECK(strcmp(ami_message_get(m, "variable"), "a=1") == 0);
    CHECK(ami_message_get(m, "Missing") == NULL);
    CHECK(ami_message_get(NULL, "Action") == NULL);
    CHECK(ami_message_get(m, NULL) == NULL);
    CHECK(strcmp(ami_message_name_at(m, 0), "Action") == 0);
    CHECK(strcmp(ami_message_value_at(m, 0), "Originate") == 0);
    CHECK(ami_message_name_at(m, 4) == NULL && ami_message_value_at(m, 99) == NULL);
    char *joined = ami_message_join(m, "VARIABLE", ",");
    CHECK(joined && strcmp(joined, "a=1,b=2") == 0);
    ami_string_free(joined);
    char *none = ami_message_join(m, "Nothing", ",");
    CHECK(none && strcmp(none, "") == 0);
    ami_string_free(none);
    CHECK(ami_message_join(NULL, "x", ",") == NULL);
    char *wire = ami_message_to_string(m);
    CHECK(wire && strcmp(wire, "Action: Originate\r\nChannel: Local/100@default\r\nVariable: a=1\r\n"
                               "Variable: b=2\r\n\r\n") == 0);
    ami_string_free(wire);
    ami_message *copy = ami_message_clone(m);
    CHECK(copy && ami_message_count(copy) == 4);
    ami_message_free(m); /* the copy stands alone */
    CHECK(strcmp(ami_message_get(copy, "Channel"), "Local/100@default") == 0);
    CHECK(ami_message_is_success(copy) == 0);
    CHECK(ami_message_list_count(copy) == 0 && ami_message_list_at(copy, 0) == NULL);
    CHECK_STATUS(ami_message_wait_event(copy, "OriginateResponse"), AMI_OK);
    CHECK_STATUS(ami_message_wait_event(copy, NULL), AMI_EINVAL);
    CHECK_STATUS(ami_message_wait_event(NULL, "X"), AMI_EINVAL);
    ami_message_free(copy);
    ami_message_free(NULL);
    CHECK(ami_message_count(NULL) == 0 && ami_message_is_success(NULL) == 0);
    CHECK(ami_message_clone(NULL) == NULL && ami_message_to_string(NULL) == NULL);
}

static void test_session(unsigned short port) {
    ami_client *c = ami_client_new(NULL);
    CHECK(ami_client_state(c) == AMI_STATE_DISCONNECTED);
    CHECK(ami_client_banner(c) == NULL);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", port), AMI_OK);
    CHECK(ami_client_state(c) == AMI_STATE_CONNECTED);
    CHECK(ami_client_banner(c) && strcmp(ami_client_banner(c), "Asterisk Call Manager/5.0.2") == 0);
    CHECK_STATUS(ami_client_login(c, "admin", "admin"), AMI_OK);
    CHECK(ami_client_state(c) == AMI_STATE_LOGGED_IN);

    ami_message *ping = ami_message_new("Ping"), *r = NULL;
    CHECK_STATUS(ami_client_send(c, ping, &r, -1), AMI_OK);
    CHECK(r && ami_message_is_success(r) && strcmp(ami_message_get(r, "Ping"), "Pong") == 0);
    const char *id = ami_message_get(r, "ActionID");
    CHECK(id && strlen(id) > 0 && strlen(id) < 64);
    ami_message_free(r);
    CHECK_STATUS(ami_client_send(c, ping, NULL, 1000), AMI_OK); /* response discarded */
    ami_message_free(ping);

    const char *headers[] = {"Variable", "CAPI", "Value", "42", NULL};
    CHECK_STATUS(ami_client_action(c, "SetVar", headers, &r, -1), AMI_OK);
    ami_message_free(r);
    const char *get[] = {"Variable", "CAPI", NULL};
    CHECK_STATUS(ami_client_action(c, "GetVar", get, &r, -1), AMI_OK);
    CHECK(r && strcmp(ami_message_get(r, "Value"), "42") == 0);
    ami_message_free(r);
    const char *odd[] = {"Variable", NULL};
    CHECK_STATUS(ami_client_action(c, "GetVar", odd, &r, -1), AMI_EINVAL);
    CHECK(r == NULL);
    const char *inject[] = {"Variable", "x\r\nAction: Logoff", NULL};
    CHECK_STATUS(ami_client_action(c, "GetVar", inject, &r, -1), AMI_EINVAL);
    CHECK_STATUS(ami_client_action(c, "", NULL, &r, -1), AMI_EINVAL);

    /* Errors are responses, not statuses. */
    CHECK_STATUS(ami_client_action(c, "NoSuchAction", NULL, &r, -1), AMI_OK);
    CHECK(r && !ami_message_is_success(r));
    CHECK(strncmp(ami_message_get(r, "Message"), "Invalid/unknown command", 23) == 0);
    ami_message_free(r);

    /* A list response. */
    CHECK_STATUS(ami_client_action(c, "QueueStatus", NULL, &r, -1), AMI_OK);
    CHECK(ami_message_list_count(r) == 3);
    CHECK(strcmp(ami_message_get(ami_message_list_at(r, 0), "Event"), "QueueParams") == 0);
    CHECK(strcmp(ami_message_get(ami_message_list_at(r, 2), "ListItems"), "2") == 0);
    CHECK(ami_message_list_at(r, 3) == NULL);
    ami_message_free(r);

    /* Command output. */
    const char *cmd[] = {"Command", "core show uptime", NULL};
    CHECK_STATUS(ami_client_action(c, "Command", cmd, &r, -1), AMI_OK);
    char *out = ami_message_join(r, "Output", "\n");
    CHECK(out && strncmp(out, "System uptime: ", 15) == 0 && strstr(out, "\nLast reload: ") != NULL);
    ami_string_free(out);
    ami_message_free(r);

    /* Originate completing on OriginateResponse. */
    ami_message *orig = ami_message_new("Originate");
    ami_message_add(orig, "Channel", "Local/200@default");
    ami_message_add(orig, "Application", "Wait");
    ami_message_add(orig, "Data", "1");
    ami_message_add(orig, "Async", "true");
    ami_message_wait_event(orig, "OriginateResponse");
    CHECK_STATUS(ami_client_send(c, orig, &r, 5000), AMI_OK);
    CHECK(r && strcmp(ami_message_get(r, "Event"), "OriginateResponse") == 0 && ami_message_is_success(r));
    ami_message_free(r);
    ami_message_free(orig);

    CHECK_STATUS(ami_client_logoff(c), AMI_OK);
    ping = ami_message_new("Ping");
    CHECK_STATUS(ami_client_send(c, ping, &r, -1), AMI_ECLOSED); /* use after logoff */
    CHECK(r == NULL);
    CHECK_STATUS(ami_client_send_async(c, ping, NULL, NULL), AMI_ECLOSED);
    CHECK(ami_client_state(c) == AMI_STATE_CLOSED); /* "polite Logoff, then close" */
    ami_message_free(ping);
    ami_client_free(c);
    ami_client_free(NULL);
}

static void test_md5(void) {
    sim s = sim_start("--user", "ops:s3cret", NULL);
    ami_options *o = ami_options_new();
    ami_options_set(o, "auth", "md5");
    ami_client *c = ami_client_new(o);
    ami_options_free(o); /* options are copied */
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", s.port), AMI_OK);
    CHECK_STATUS(ami_client_login(c, "ops", "s3cret"), AMI_OK);
    ami_client_free(c);
    sim_stop(s);
}

static void test_connect_errors(unsigned short port) {
    ami_client *c = ami_client_new(NULL);
    /* A port nobody listens on: take one from the kernel, then let it go. */
    sim gone = sim_start(NULL, NULL, NULL);
    sim_stop(gone);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", gone.port), AMI_ECONNECT);
    CHECK_STATUS(ami_client_connect(c, "no-such-host.invalid", port), AMI_ECONNECT);
    CHECK_STATUS(ami_client_connect(c, NULL, port), AMI_EINVAL);
    CHECK_STATUS(ami_client_connect(NULL, "127.0.0.1", port), AMI_EINVAL);
    CHECK_STATUS(ami_client_login(c, "admin", "admin"), AMI_ECLOSED); /* not connected */
    ami_client_free(c);

    sim http = sim_start("--fault", "wrong-banner", NULL);
    c = ami_client_new(NULL);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", http.port), AMI_ENOTAMI);
    ami_client_free(c);
    sim_stop(http);

    sim noise = sim_start("--fault", "garbage", NULL);
    c = ami_client_new(NULL);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", noise.port), AMI_ENOTAMI);
    ami_client_free(c);
    sim_stop(noise);

    c = ami_client_new(NULL);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", port), AMI_OK);
    CHECK_STATUS(ami_client_login(c, "admin", "wrong"), AMI_EAUTH);
    CHECK(strstr(ami_last_error(), "Authentication failed") != NULL);
    CHECK_STATUS(ami_client_login(c, NULL, "x"), AMI_EINVAL);
    ami_client_free(c);

    sim stall = sim_start("--fault", "stall", NULL);
    ami_options *o = ami_options_new();
    ami_options_set(o, "connect_timeout_ms", "300");
    c = ami_client_new(o);
    ami_options_free(o);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", stall.port), AMI_ETIMEDOUT);
    ami_client_free(c);
    sim_stop(stall);
}

static atomic_int closed_count;

static void count_closed(int status, const ami_message *r, void *ud) {
    (void)r;
    (void)ud;
    if (status == AMI_ECLOSED) atomic_fetch_add(&closed_count, 1);
}

static void test_runtime_errors(unsigned short port) {
    ami_message *r = NULL;
    const char *stall[] = {"Mode", "stall", NULL};
    ami_client *c = logged_in(port, NULL);
    CHECK_STATUS(ami_client_action(c, "SimFault", stall, &r, -1), AMI_OK);
    ami_message_free(r);
    ami_message *ping = ami_message_new("Ping");
    CHECK_STATUS(ami_client_send(c, ping, &r, 200), AMI_ETIMEDOUT);
    ami_client_free(c);

    const char *cut[] = {"Mode", "close-mid-message", NULL};
    c = logged_in(port, NULL);
    CHECK_STATUS(ami_client_action(c, "SimFault", cut, &r, -1), AMI_OK);
    ami_message_free(r);
    CHECK_STATUS(ami_client_send(c, ping, &r, -1), AMI_EDISCONNECTED);
    CHECK(ami_client_state(c) == AMI_STATE_DISCONNECTED);
    ami_client_free(c);

    const char *huge[] = {"Mode", "huge", NULL};
    c = logged_in(port, NULL);
    CHECK_STATUS(ami_client_action(c, "SimFault", huge, &r, -1), AMI_OK);
    ami_message_free(r);
    CHECK_STATUS(ami_client_send(c, ping, &r, -1), AMI_EPROTOCOL);
    ami_client_free(c);

    /* Bounded sending: a server that answers nothing holds max_pending. */
    ami_options *small = ami_options_new();
    CHECK_STATUS(ami_options_set(small, "max_pending", "10"), AMI_OK);
    CHECK_STATUS(ami_options_set(small, "max_pending", "0"), AMI_EINVAL);
    c = logged_in(port, small);
    ami_options_free(small);
    CHECK_STATUS(ami_client_action(c, "SimFault", stall, &r, -1), AMI_OK);
    ami_message_free(r);
    for (int i = 0; i < 10; i++) CHECK_STATUS(ami_client_send_async(c, ping, count_closed, NULL), AMI_OK);
    CHECK_STATUS(ami_client_send_async(c, ping, count_closed, NULL), AMI_EFULL);
    CHECK(strstr(ami_last_error(), "max_pending=10") != NULL);
    CHECK(strstr(ami_strerror(AMI_EFULL), "AMI_EFULL") != NULL);
    CHECK_STATUS(ami_client_send(c, ping, &r, 100), AMI_EFULL); /* waited for room until its deadline */
    ami_client_free(c);
    CHECK(atomic_load(&closed_count) == 10); /* each accepted one completed once */

    /* NULL where a pointer is required. */
    CHECK_STATUS(ami_client_send(NULL, ping, &r, -1), AMI_EINVAL);
    CHECK(ami_client_state(NULL) == -1);
    CHECK(ami_client_banner(NULL) == NULL);
    CHECK(ami_client_event_fd(NULL) == -1);
    CHECK(ami_client_dropped_events(NULL) == 0);
    CHECK_STATUS(ami_client_logoff(NULL), AMI_EINVAL);
    CHECK_STATUS(ami_client_unsubscribe(NULL, 1), AMI_EINVAL);
    CHECK_STATUS(ami_client_next_event(NULL, &r, 0), AMI_EINVAL);
    CHECK(ami_client_subscribe(NULL, "*", NULL, NULL) == 0);
    ami_client_on_state(NULL, NULL, NULL);
    c = ami_client_new(NULL);
    CHECK_STATUS(ami_client_send(c, NULL, &r, -1), AMI_EINVAL);
    CHECK_STATUS(ami_client_send_async(c, NULL, NULL, NULL), AMI_EINVAL);
    CHECK_STATUS(ami_client_send(c, ping, &r, -1), AMI_ECLOSED); /* never connected */
    CHECK(ami_client_subscribe(c, "*", NULL, NULL) == 0);
    CHECK_STATUS(ami_client_unsubscribe(c, 12345), AMI_EINVAL);
    ami_client_free(c);
    ami_message_free(ping);
}

/* --- callbacks ------------------------------------------------------------ */

typedef struct {
    ami_client *client;
    atomic_int events, batched, async_ok, deadlock_seen, states[6];
} cb_state;

static void on_user_event(const ami_message *e, void *ud) {
    cb_state *s = ud;
    CHECK(strcmp(ami_message_get(e, "Event"), "UserEvent") == 0);
    atomic_fetch_add(&s->events, 1);
}

static void on_user_events(const char *text, size_t len, size_t count, void *ud) {
    cb_state *s = ud;
    CHECK(count >= 1 && len >= 4 && memcmp(text + len - 4, "\r\n\r\n", 4) == 0);
    /* Not NUL-terminated: search within len. */
    static const char needle[] = "UserEvent: FromC\r\n";
    size_t found = 0, n = sizeof needle - 1;
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(text + i, needle, n) == 0) found++;
    CHECK(found == count);
    atomic_fetch_add(&s->batched, (int)count);
}

static void on_ping_done(int status, const ami_message *r, void *ud) {
    cb_state *s = ud;
    if (status == AMI_OK && r && ami_message_is_success(r)) atomic_fetch_add(&s->async_ok, 1);
}

static void on_event_try_blocking(const ami_message *e, void *ud) {
    cb_state *s = ud;
    (void)e;
    ami_message *ping = ami_message_new("Ping"), *r = NULL;
    if (ami_client_send(s->client, ping, &r, 1000) == AMI_EDEADLOCK && r == NULL)
        atomic_fetch_add(&s->deadlock_seen, 1);
    CHECK_STATUS(ami_client_send_async(s->client, ping, on_ping_done, s), AMI_OK); /* allowed */
    ami_message_free(ping);
}

static void on_state(int state, int status, void *ud) {
    cb_state *s = ud;
    (void)status;
    if (state >= 0 && state < 6) atomic_fetch_add(&s->states[state], 1);
}

static int wait_for(atomic_int *v, int want, int ms) {
    for (int i = 0; i < ms / 5 && atomic_load(v) < want; i++) sleep_ms(5);
    return atomic_load(v);
}

static void test_callbacks(unsigned short port) {
    cb_state s;
    memset(&s, 0, sizeof s);
    ami_client *c = ami_client_new(NULL);
    s.client = c;
    ami_client_on_state(c, on_state, &s);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", port), AMI_OK);
    CHECK_STATUS(ami_client_login(c, "admin", "admin"), AMI_OK);
    uint64_t sub = ami_client_subscribe(c, "userevent", on_user_event, &s);
    CHECK(sub != 0);
    const char *ue[] = {"UserEvent", "FromC", NULL};
    ami_message *r = NULL;
    for (int i = 0; i < 10; i++) {
        CHECK_STATUS(ami_client_action(c, "UserEvent", ue, &r, -1), AMI_OK);
        ami_message_free(r);
    }
    CHECK(wait_for(&s.events, 10, 5000) == 10);
    CHECK_STATUS(ami_client_unsubscribe(c, sub), AMI_OK);
    CHECK_STATUS(ami_client_unsubscribe(c, sub), AMI_EINVAL);
    CHECK_STATUS(ami_client_action(c, "UserEvent", ue, &r, -1), AMI_OK);
    ami_message_free(r);
    sleep_ms(100);
    CHECK(atomic_load(&s.events) == 10); /* none after unsubscribe */

    /* A batch subscription: the same events, many per call, in wire form. */
    sub = ami_client_subscribe_batch(c, "UserEvent", on_user_events, &s);
    CHECK(sub != 0);
    CHECK(ami_client_subscribe_batch(c, "*", NULL, NULL) == 0);
    for (int i = 0; i < 10; i++) {
        CHECK_STATUS(ami_client_action(c, "UserEvent", ue, &r, -1), AMI_OK);
        ami_message_free(r);
    }
    CHECK(wait_for(&s.batched, 10, 5000) == 10);
    CHECK_STATUS(ami_client_unsubscribe(c, sub), AMI_OK);

    ami_message *ping = ami_message_new("Ping");
    for (int i = 0; i < 100; i++) CHECK_STATUS(ami_client_send_async(c, ping, on_ping_done, &s), AMI_OK);
    CHECK(wait_for(&s.async_ok, 100, 5000) == 100);
    ami_message_free(ping);

    /* A blocking call from a callback: AMI_EDEADLOCK, never a hang. */
    sub = ami_client_subscribe(c, "User*", on_event_try_blocking, &s);
    CHECK_STATUS(ami_client_action(c, "UserEvent", ue, &r, -1), AMI_OK);
    ami_message_free(r);
    CHECK(wait_for(&s.deadlock_seen, 1, 5000) == 1);
    CHECK(wait_for(&s.async_ok, 101, 5000) == 101);
    ami_client_logoff(c);
    CHECK(wait_for(&s.states[AMI_STATE_DISCONNECTED], 1, 2000) >= 1);
    CHECK(atomic_load(&s.states[AMI_STATE_CONNECTING]) == 1);
    CHECK(atomic_load(&s.states[AMI_STATE_CONNECTED]) == 1);
    CHECK(atomic_load(&s.states[AMI_STATE_LOGGED_IN]) == 1);
    ami_client_free(c);
}

/* Takes every completion within 5 s into the arrays; returns how many. */
static size_t take_completions(ami_client *c, size_t want, uint64_t *tags, int *statuses, size_t *lens, char *all, size_t room) {
    size_t got = 0, used = 0;
    int fd = ami_client_completion_fd(c);
    CHECK(fd >= 0);
    for (int spins = 0; got < want && spins < 500; spins++) {
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, 10);
        char *text = NULL;
        size_t n = 0;
        CHECK_STATUS(ami_client_next_completions(c, want - got, tags + got, statuses + got, lens + got, &text, &n), AMI_OK);
        size_t total = 0;
        for (size_t i = 0; i < n; i++) total += lens[got + i];
        if (n > 0 && used + total < room) {
            memcpy(all + used, text, total);
            used += total;
        }
        ami_buffer_free(text, total);
        got += n;
    }
    all[used] = '\0';
    return got;
}

static void test_queued_sends(unsigned short port) {
    ami_options *o = ami_options_new();
    ami_options_set(o, "action_timeout_ms", "300");
    ami_client *c = logged_in(port, o);
    ami_options_free(o);
    uint64_t tags[8];
    int statuses[8];
    size_t lens[8], n = 99;
    char all[8192], *text = (char *)1;
    /* Nothing waiting: count 0, text NULL, not an error. */
    CHECK_STATUS(ami_client_next_completions(c, 8, tags, statuses, lens, &text, &n), AMI_OK);
    CHECK(n == 0 && text == NULL);
    CHECK_STATUS(ami_client_next_completions(c, 8, NULL, statuses, lens, &text, &n), AMI_EINVAL);
    CHECK_STATUS(ami_client_send_queued(c, NULL, 1), AMI_EINVAL);
    CHECK_STATUS(ami_client_send_queued(NULL, NULL, 1), AMI_EINVAL);
    CHECK(ami_client_completion_fd(NULL) == -1);

    ami_message *ping = ami_message_new("Ping"), *queues = ami_message_new("QueueStatus");
    CHECK_STATUS(ami_client_send_queued(c, ping, 7), AMI_OK);
    CHECK_STATUS(ami_client_send_queued(c, queues, 8), AMI_OK);
    CHECK(take_completions(c, 2, tags, statuses, lens, all, sizeof all) == 2);
    CHECK(statuses[0] == AMI_OK && statuses[1] == AMI_OK);
    CHECK((tags[0] == 7 && tags[1] == 8) || (tags[0] == 8 && tags[1] == 7));
    CHECK(strstr(all, "Ping: Pong\r\n") != NULL);
    CHECK(strstr(all, "Event: QueueStatusComplete\r\n") != NULL); /* the list's events follow their response */
    CHECK(lens[0] > 0 && lens[1] > lens[0] / 4);

    /* A server that stops answering: the result is the timeout, with its detail. */
    ami_message *stall = ami_message_new("SimFault");
    ami_message_add(stall, "Mode", "stall");
    ami_message *r = NULL;
    CHECK_STATUS(ami_client_send(c, stall, &r, -1), AMI_OK);
    ami_message_free(r);
    CHECK_STATUS(ami_client_send_queued(c, ping, 9), AMI_OK);
    CHECK(take_completions(c, 1, tags, statuses, lens, all, sizeof all) == 1);
    CHECK(tags[0] == 9 && statuses[0] == AMI_ETIMEDOUT && lens[0] > 0 && strlen(all) == lens[0]);
    /* Freed with a queued send in flight: it completes (AMI_ECLOSED), nothing leaks. */
    CHECK_STATUS(ami_client_send_queued(c, ping, 10), AMI_OK);
    ami_message_free(stall);
    ami_message_free(queues);
    ami_message_free(ping);
    ami_client_free(c);
}

static void test_event_queue(unsigned short port) {
    ami_options *o = ami_options_new();
    ami_options_set(o, "event_queue", "1");
    ami_client *c = logged_in(port, o);
    ami_options_free(o);
    int fd = ami_client_event_fd(c);
    CHECK(fd >= 0);
    ami_message *e = NULL, *r = NULL;
    while (ami_client_next_event(c, &e, 100) == AMI_OK) ami_message_free(e); /* login's events */
    CHECK_STATUS(ami_client_next_event(c, &e, 10), AMI_ETIMEDOUT);
    CHECK(e == NULL);
    CHECK_STATUS(ami_client_next_event(c, NULL, 10), AMI_EINVAL);
    struct pollfd p = {fd, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 0);
    const char *ue[] = {"UserEvent", "Pulled", NULL};
    CHECK_STATUS(ami_client_action(c, "UserEvent", ue, &r, -1), AMI_OK);
    ami_message_free(r);
    CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN));
    CHECK_STATUS(ami_client_next_event(c, &e, 1000), AMI_OK);
    CHECK(e && strcmp(ami_message_get(e, "UserEvent"), "Pulled") == 0);
    ami_message_free(e);
    CHECK(poll(&p, 1, 0) == 0);

    /* Many at once: wire text with the events one after the other. */
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(ami_client_action(c, "UserEvent", ue, &r, -1), AMI_OK);
        ami_message_free(r);
    }
    char *text = NULL;
    size_t len = 0, count = 0, total = 0;
    while (total < 3 && ami_client_next_events(c, 2, 1000, &text, &len, &count) == AMI_OK) {
        CHECK(count >= 1 && count <= 2 && text && len > 0 && strstr(text, "UserEvent: Pulled\r\n") != NULL);
        CHECK(len >= 4 && memcmp(text + len - 4, "\r\n\r\n", 4) == 0);
        total += count;
        ami_buffer_free(text, len);
    }
    CHECK(total == 3);
    CHECK_STATUS(ami_client_next_events(c, 10, 10, &text, &len, &count), AMI_ETIMEDOUT);
    CHECK(text == NULL && len == 0 && count == 0);
    CHECK_STATUS(ami_client_next_events(c, 10, 10, NULL, &len, &count), AMI_EINVAL);
    ami_buffer_free(NULL, 0);
    ami_client_free(c);

    /* Without the queue: a clear error. */
    c = logged_in(port, NULL);
    CHECK(ami_client_event_fd(c) == -1);
    CHECK_STATUS(ami_client_next_event(c, &e, 0), AMI_EINVAL);
    ami_client_free(c);

    /* drop_oldest counts what it drops. */
    o = ami_options_new();
    ami_options_set(o, "event_queue", "1");
    ami_options_set(o, "event_queue_limit", "10");
    ami_options_set(o, "events", "off");
    c = logged_in(port, o);
    ami_options_free(o);
    const char *flood[] = {"Count", "2000", "Size", "300", NULL};
    CHECK_STATUS(ami_client_action(c, "SimFlood", flood, &r, -1), AMI_OK);
    ami_message_free(r);
    for (int i = 0; i < 200 && ami_client_dropped_events(c) < 1990; i++) sleep_ms(10);
    CHECK(ami_client_dropped_events(c) >= 1990);
    ami_client_free(c);
}

static atomic_int freed_calls, freed_closed;

static void on_freed(int status, const ami_message *r, void *ud) {
    (void)ud;
    atomic_fetch_add(&freed_calls, 1);
    if (status == AMI_ECLOSED && r == NULL) atomic_fetch_add(&freed_closed, 1);
}

static void test_free_with_actions_in_flight(unsigned short port) {
    ami_client *c = logged_in(port, NULL);
    const char *stall[] = {"Mode", "stall", NULL};
    ami_message *r = NULL, *ping = ami_message_new("Ping");
    CHECK_STATUS(ami_client_action(c, "SimFault", stall, &r, -1), AMI_OK);
    ami_message_free(r);
    for (int i = 0; i < 1000; i++) CHECK_STATUS(ami_client_send_async(c, ping, on_freed, NULL), AMI_OK);
    ami_message_free(ping);
    ami_client_free(c);
    CHECK(atomic_load(&freed_calls) == 1000); /* every callback ran before free returned */
    CHECK(atomic_load(&freed_closed) == 1000);
    sleep_ms(50);
    CHECK(atomic_load(&freed_calls) == 1000); /* and exactly once */
}

static atomic_int after_free_events;

static void free_from_callback(const ami_message *e, void *ud) {
    (void)e;
    ami_client **slot = ud;
    if (*slot) {
        ami_client *c = *slot;
        *slot = NULL;
        ami_client_free(c); /* from the client's own dispatch thread */
    } else {
        atomic_fetch_add(&after_free_events, 1);
    }
}

static void test_free_from_callback(unsigned short port) {
    static ami_client *slot;
    slot = logged_in(port, NULL);
    CHECK(ami_client_subscribe(slot, "SimFlood", free_from_callback, &slot) != 0);
    /* One action, then hands off: the first of its 1,000 events frees the client. */
    ami_message *flood = ami_message_new("SimFlood");
    ami_message_add(flood, "Count", "1000");
    CHECK_STATUS(ami_client_send_async(slot, flood, NULL, NULL), AMI_OK);
    ami_message_free(flood);
    for (int i = 0; i < 400 && slot; i++) sleep_ms(5);
    CHECK(slot == NULL);
    sleep_ms(100);
    CHECK(atomic_load(&after_free_events) == 0); /* no callback after free */
}

/* AMI over HTTP through the C API, under the sanitizers: both paths, a
 * wrong secret, a list, events through the long poll, a broken answer. */
static atomic_int http_events;

static void on_http_event(const ami_message *e, void *ud) {
    (void)ud;
    if (strcmp(ami_message_get(e, "UserEvent") ? ami_message_get(e, "UserEvent") : "", "OverHttp") == 0)
        atomic_fetch_add(&http_events, 1);
}

static void test_http(void) {
    sim s = sim_start("--http", "127.0.0.1:0", NULL);
    const char *paths[] = {"/rawman", "/arawman"};
    for (int i = 0; i < 2; i++) {
        ami_options *o = ami_options_new();
        CHECK_STATUS(ami_options_set(o, "transport", "http"), AMI_OK);
        CHECK_STATUS(ami_options_set(o, "http_path", paths[i]), AMI_OK);
        CHECK_STATUS(ami_options_set(o, "http_path", "/manager"), AMI_EINVAL);
        CHECK_STATUS(ami_options_set(o, "action_timeout_ms", "2000"), AMI_OK);
        ami_client *c = ami_client_new(o);
        ami_options_free(o);
        CHECK_STATUS(ami_client_connect(c, "127.0.0.1", s.http_port), AMI_OK);
        CHECK(strncmp(ami_client_banner(c), "Asterisk/", 9) == 0);
        CHECK_STATUS(ami_client_login(c, "admin", "wrong"), AMI_EAUTH);
        CHECK_STATUS(ami_client_login(c, "admin", "admin"), AMI_OK);
        atomic_store(&http_events, 0);
        CHECK(ami_client_subscribe(c, "UserEvent", on_http_event, NULL) != 0);
        ami_message *r = NULL;
        CHECK_STATUS(ami_client_action(c, "QueueStatus", NULL, &r, -1), AMI_OK);
        CHECK(r && ami_message_list_count(r) == 3);
        ami_message_free(r);
        const char *ue[] = {"UserEvent", "OverHttp", NULL};
        for (int k = 0; k < 5; k++) {
            CHECK_STATUS(ami_client_action(c, "UserEvent", ue, &r, -1), AMI_OK);
            ami_message_free(r);
        }
        CHECK(wait_for(&http_events, 5, 5000) == 5);
        const char *cut[] = {"Mode", "close-mid-message", NULL};
        CHECK_STATUS(ami_client_action(c, "SimFault", cut, &r, -1), AMI_OK);
        ami_message_free(r);
        ami_message *ping = ami_message_new("Ping");
        CHECK_STATUS(ami_client_send(c, ping, &r, -1), AMI_EDISCONNECTED);
        CHECK_STATUS(ami_client_send(c, ping, &r, -1), AMI_OK); /* a fresh connection */
        ami_message_free(r);
        ami_message_free(ping);
        CHECK_STATUS(ami_client_logoff(c), AMI_OK);
        ami_client_free(c);
    }
    /* The TCP port is not HTTP. */
    ami_options *o = ami_options_new();
    ami_options_set(o, "transport", "http");
    ami_client *c = ami_client_new(o);
    ami_options_free(o);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", s.port), AMI_ENOTAMI);
    ami_client_free(c);
    sim_stop(s);
}

int main(void) {
    sim s = sim_start(NULL, NULL, NULL);
    test_library();
    test_options();
    test_messages();
    test_session(s.port);
    test_md5();
    test_connect_errors(s.port);
    test_runtime_errors(s.port);
    test_callbacks(s.port);
    test_event_queue(s.port);
    test_queued_sends(s.port);
    test_free_with_actions_in_flight(s.port);
    test_free_from_callback(s.port);
    test_http();
    sim_stop(s);
    return checks_report();
}
