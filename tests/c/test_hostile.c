/* The hostile-server matrix for both C APIs, under AddressSanitizer: each
 * ami-sim fault (SimFault) with the outcome written next to it, the same
 * table as tests/hostile.rs. Nothing crashes or hangs, every action ends
 * once with the documented status, and the client carries on when it can. */
#define _POSIX_C_SOURCE 200809L
#include <ami/ami.h>
#include <ami.h>
#include "check.h"

#include <time.h>

typedef struct {
    const char *fault, *probe;
    int modern;  /* ami_client_send's status */
    int carries; /* the client still answers a Ping afterwards */
    int classic; /* ami_ping (1 answered, 0 failed), or for a list probe Success */
    int classic_carries; /* the next ami_ping answers (-1: either: the socket
                            is the program's, the layer skips what it refused) */
} row;

static const row MATRIX[] = {
    {"duplicate-response", "Ping", AMI_OK, 1, 1, 1},
    {"unknown-id", "Ping", AMI_OK, 1, 1, 1},
    {"open-list", "CoreShowChannels", AMI_ETIMEDOUT, 1, 1, 1}, /* classic: the response alone */
    {"interleave", "QueueStatus", AMI_OK, 1, 1, 1},
    {"nul-utf8", "Ping", AMI_OK, 1, 1, 1},
    {"reset-mid-message", "Ping", AMI_EDISCONNECTED, 0, 0, 0},
    {"close-mid-message", "Ping", AMI_EDISCONNECTED, 0, 0, 0},
    {"endless-line", "Ping", AMI_EPROTOCOL, 0, 0, -1},
    {"million-headers", "Ping", AMI_EPROTOCOL, 0, 0, -1},
    {"huge", "Ping", AMI_EPROTOCOL, 0, 0, -1},
};
#define ROWS (sizeof MATRIX / sizeof MATRIX[0])

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void arm(ami_client *c, const char *fault) {
    const char *h[] = {"Mode", fault, NULL};
    ami_message *r = NULL;
    CHECK_STATUS(ami_client_action(c, "SimFault", h, &r, -1), AMI_OK);
    ami_message_free(r);
}

static void modern(unsigned short port, const row *t) {
    ami_options *o = ami_options_new();
    ami_options_set(o, "action_timeout_ms", "500");
    ami_client *c = ami_client_new(o);
    ami_options_free(o);
    CHECK_STATUS(ami_client_connect(c, "127.0.0.1", port), AMI_OK);
    CHECK_STATUS(ami_client_login(c, "admin", "admin"), AMI_OK);
    arm(c, t->fault);
    ami_message *probe = ami_message_new(t->probe), *r = NULL;
    double t0 = now();
    int st = ami_client_send(c, probe, &r, -1);
    if (st != t->modern) fprintf(stderr, "fault %s:\n", t->fault);
    CHECK_STATUS(st, t->modern);
    CHECK(now() - t0 < 3.0);
    if (st == AMI_OK && strcmp(t->fault, "interleave") == 0) CHECK(ami_message_list_count(r) == 3);
    if (st == AMI_OK && strcmp(t->fault, "nul-utf8") == 0) CHECK(ami_message_get(r, "Junk") != NULL);
    ami_message_free(r);
    r = NULL;
    ami_message *ping = ami_message_new("Ping");
    int after = ami_client_send(c, ping, &r, -1);
    CHECK(t->carries ? after == AMI_OK : after != AMI_OK);
    CHECK(t->carries || ami_client_state(c) == AMI_STATE_DISCONNECTED);
    ami_message_free(r);
    ami_message_free(ping);
    ami_message_free(probe);
    ami_client_free(c);
}

static void classic(unsigned short port, const row *t) {
    int fd = tcp_connect(port);
    ast_packet *r = ami_login(fd, "admin", "admin", NULL, NULL);
    CHECK(r && strcmp(ami_get_packet_item_value(r, "Response"), "Success") == 0);
    ami_destroy_packet_group(r);
    ast_packet *f = ami_add_new_packet_item(NULL, "Action", "SimFault");
    ami_add_new_packet_item(f, "Mode", t->fault);
    ami_destroy_packet_group(ami_custom(fd, f));
    ami_destroy_packet(f);
    double t0 = now();
    int answered;
    if (strcmp(t->probe, "Ping") == 0) {
        answered = ami_ping(fd, NULL);
    } else {
        ast_packet *a = ami_add_new_packet_item(NULL, "Action", t->probe);
        r = ami_custom(fd, a);
        const char *resp = r ? ami_get_packet_item_value(r, "Response") : NULL;
        answered = resp && strcmp(resp, "Success") == 0;
        ami_destroy_packet_group(r);
        ami_destroy_packet(a);
    }
    if (answered != t->classic) fprintf(stderr, "classic, fault %s: got %d\n", t->fault, answered);
    CHECK(answered == t->classic);
    CHECK(now() - t0 < 5.0);
    int after = ami_ping(fd, NULL);
    if (t->classic_carries >= 0 && after != t->classic_carries)
        fprintf(stderr, "classic, fault %s: the next ping gave %d\n", t->fault, after);
    CHECK(t->classic_carries < 0 || after == t->classic_carries);
    close(fd);
}

int main(void) {
    sim s = sim_start(NULL, NULL, NULL);
    for (size_t i = 0; i < ROWS; i++) {
        modern(s.port, &MATRIX[i]);
        classic(s.port, &MATRIX[i]);
    }
    sim_stop(s);
    return checks_report();
}
