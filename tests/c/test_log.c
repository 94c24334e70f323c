/* The log callback through the modern C API: records per level, the wire
 * at trace with the secret masked, never the secret at any level, and a
 * callback that replaces itself. Run under AddressSanitizer by tests/c_api.rs. */
#define _POSIX_C_SOURCE 200809L
#include "ami.h"
#include "check.h"

#include <pthread.h>

#define SECRET "C-S3cr3t-Zq7x"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char lines[256][512];
static int levels[256];
static int count, secret_seen, bad_level, foreign_client;
static uint64_t want_client;

static void on_log(int level, uint64_t client, const char *message, void *userdata) {
    pthread_mutex_lock(&lock);
    if (strstr(message, SECRET)) secret_seen++;
    if (level < AMI_LOG_ERROR || level > AMI_LOG_TRACE) bad_level++;
    if (client == want_client && count < 256) {
        snprintf(lines[count], sizeof lines[count], "%s", message);
        levels[count++] = level;
    } else if (client != want_client && client != 0) {
        foreign_client++;
    }
    pthread_mutex_unlock(&lock);
    (void)userdata;
}

static int userdata_seen;
static void replace_self(int level, uint64_t client, const char *message, void *userdata) {
    (void)level, (void)client, (void)message;
    *(int *)userdata += 1;
    ami_set_log_callback(NULL, NULL); /* no lock is held: this may not deadlock */
}

static int has(const char *needle) {
    pthread_mutex_lock(&lock);
    int found = 0;
    for (int i = 0; i < count; i++) found |= strstr(lines[i], needle) != NULL;
    pthread_mutex_unlock(&lock);
    return found;
}

static int max_level(void) {
    int m = 0;
    for (int i = 0; i < count; i++) m = levels[i] > m ? levels[i] : m;
    return m;
}

/* Logs in with the secret, sends a Ping; returns how many records came. */
static int session(unsigned short port, const char *level) {
    ami_options *o = ami_options_new();
    CHECK_STATUS(ami_options_set(o, "log_level", level), AMI_OK);
    ami_client *c = ami_client_new(o);
    ami_options_free(o);
    pthread_mutex_lock(&lock);
    count = 0;
    want_client = ami_client_id(c);
    pthread_mutex_unlock(&lock);
    CHECK(want_client != 0);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", port), AMI_OK);
    CHECK_STATUS(ami_client_login(c, "logger", SECRET), AMI_OK);
    ami_message *r = NULL;
    CHECK_STATUS(ami_client_action(c, "Ping", NULL, &r, -1), AMI_OK);
    ami_message_free(r);
    ami_client_free(c);
    return count;
}

int main(void) {
    sim s = sim_start("--user", "logger:" SECRET, NULL);
    ami_options *o = ami_options_new();
    CHECK_STATUS(ami_options_set(o, "log_level", "loud"), AMI_EINVAL);
    ami_options_free(o);
    CHECK(AMI_LOG_ERROR == 1 && AMI_LOG_TRACE == 5 && ami_client_id(NULL) == 0);

    /* No callback: nothing to see, nothing breaks. */
    ami_set_log_callback(NULL, NULL);
    CHECK(session(s.port, "trace") == 0);

    ami_set_log_callback(on_log, NULL);
    CHECK(session(s.port, "trace") > 0);
    CHECK(has("-> Action: Login") && has("Secret: ********") && has("<- Response: Success"));
    CHECK(has("Action: Ping") && has("Ping: Pong") && has("state LoggedIn"));
    CHECK(max_level() == AMI_LOG_TRACE);

    CHECK(session(s.port, "info") > 0);
    CHECK(has("state LoggedIn") && !has("-> "));
    CHECK(max_level() <= AMI_LOG_INFO);

    CHECK(session(s.port, "off") == 0);
    const char *all[] = {"error", "warn", "info", "debug", "trace"};
    for (int i = 0; i < 5; i++) {
        session(s.port, all[i]);
        CHECK(max_level() <= i + 1);
    }
    CHECK(secret_seen == 0 && bad_level == 0);

    /* A callback may replace itself from inside a call. */
    ami_set_log_callback(replace_self, &userdata_seen);
    session(s.port, "info");
    CHECK(userdata_seen == 1);
    ami_set_log_callback(NULL, NULL);
    (void)foreign_client;
    sim_stop(s);
    return checks_report();
}
