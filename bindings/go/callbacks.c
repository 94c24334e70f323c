// C trampolines from libami's callbacks into Go (cgo forbids definitions in
// the preamble of a file with //export).
#include "ami.h"
#include "_cgo_export.h"

void ami_go_response(int status, const struct ami_message *response, void *userdata) {
    goResponse(status, (struct ami_message *)response, userdata);
}

void ami_go_log(int level, uint64_t client, const char *message, void *userdata) {
    (void)userdata;
    goLog(level, client, (char *)message);
}
