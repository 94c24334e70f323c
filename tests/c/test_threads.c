/* 8 threads share one client and send 10,000 actions each (async, with a
 * blocking send every 100th): every action must complete exactly once. */
#define _POSIX_C_SOURCE 200809L
#include "ami.h"
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define THREADS 8
#define PER_THREAD 10000

static ami_client *client;
static atomic_int done_count[THREADS * PER_THREAD];
static atomic_int completed, failed;

static void on_done(int status, const ami_message *r, void *ud) {
    atomic_int *slot = ud;
    if (status != AMI_OK || !r || !ami_message_is_success(r)) atomic_fetch_add(&failed, 1);
    atomic_fetch_add(slot, 1);
    atomic_fetch_add(&completed, 1);
}

static void *worker(void *arg) {
    int t = (int)(long)arg;
    ami_message *ping = ami_message_new("Ping");
    for (int i = 0; i < PER_THREAD; i++) {
        atomic_int *slot = &done_count[t * PER_THREAD + i];
        if (i % 100 == 99) {
            ami_message *r = NULL;
            int st = ami_client_send(client, ping, &r, 30000);
            if (st != AMI_OK || !r) atomic_fetch_add(&failed, 1);
            ami_message_free(r);
            atomic_fetch_add(slot, 1);
            atomic_fetch_add(&completed, 1);
        } else if (ami_client_send_async(client, ping, on_done, slot) != AMI_OK) {
            atomic_fetch_add(&failed, 1);
        }
    }
    ami_message_free(ping);
    return NULL;
}

int main(void) {
    sim s = sim_start(NULL, NULL, NULL);
    ami_options *o = ami_options_new();
    ami_options_set(o, "events", "off");
    ami_options_set(o, "action_timeout_ms", "60000");
    client = ami_client_new(o);
    ami_options_free(o);
    CHECK_STATUS(ami_client_connect(client, "127.0.0.1", s.port), AMI_OK);
    CHECK_STATUS(ami_client_login(client, "admin", "admin"), AMI_OK);
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, worker, (void *)t);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    struct timespec tick = {0, 10000000L};
    for (int i = 0; i < 6000 && atomic_load(&completed) < THREADS * PER_THREAD; i++) nanosleep(&tick, NULL);
    CHECK(atomic_load(&completed) == THREADS * PER_THREAD);
    CHECK(atomic_load(&failed) == 0);
    int wrong = 0;
    for (int i = 0; i < THREADS * PER_THREAD; i++) wrong += atomic_load(&done_count[i]) != 1;
    CHECK(wrong == 0);
    ami_client_free(client);
    CHECK(atomic_load(&completed) == THREADS * PER_THREAD); /* nothing ran twice at close */
    sim_stop(s);
    return checks_report();
}
