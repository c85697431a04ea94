/*
 * fleet_proto: the MQTT topic layout and payloads of a fleet of screens,
 * and the small rules of the client's behaviour (reconnect back-off, the
 * receive-rate bucket, the "log once per topic" set). Pure logic (json-c,
 * no MQTT library): unit-tested and fuzzed on its own; fleet.c is the
 * edge that moves these over libmosquitto.
 *
 * Topics, under PREFIX (topic_prefix):
 *   PREFIX/all/messages/ID            every screen
 *   PREFIX/group/GROUP/messages/ID    the screens in GROUP
 *   PREFIX/screen/SCREEN/messages/ID  one screen
 *   PREFIX/{all,group/GROUP,screen/SCREEN}/command   {"command": "..."}
 *   PREFIX/screen/SCREEN/status       retained status JSON, last-will
 *   PREFIX/screen/SCREEN/screenshot   PNG, on the screenshot command
 */
#ifndef KT_FLEET_PROTO_H
#define KT_FLEET_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet_conf.h"

#define FLEET_PAYLOAD_MAX (64 * 1024)        /* a message or command payload */
#define FLEET_STATUS_MAX (256 * 1024)        /* the status document the app gives */
#define FLEET_SCOPE_MAX (FLEET_NAME_MAX + 8) /* "group/NAME", "screen/NAME" */
#define FLEET_OFFLINE "{\"online\":false}"

enum fleet_command { FLEET_CMD_RELOAD, FLEET_CMD_REFETCH, FLEET_CMD_SCREENSHOT };
enum fleet_topic_kind { FLEET_TOPIC_MESSAGE, FLEET_TOPIC_COMMAND };

/* The topics one screen uses, built once from its settings. */
struct fleet_topics {
    char **subs; /* subscriptions: messages/+ and command, per scope */
    size_t n_subs;
    char *status;
    char *screenshot;
};

void fleet_topics_init(struct fleet_topics *t, const char *prefix, const char *screen_id,
                       char *const *groups, size_t n_groups);
void fleet_topics_free(struct fleet_topics *t);

/* What an incoming topic is, for this screen. scope is "all",
 * "group/NAME" or "screen/NAME"; id (messages only) points into topic. */
struct fleet_topic {
    enum fleet_topic_kind kind;
    char scope[FLEET_SCOPE_MAX + 1];
    const char *id;
    size_t id_len;
};

/* -1 with the reason when topic is not one this screen subscribes to, or
 * its message id is not acceptable (fleet_conf_check_id). */
int fleet_proto_classify(const char *prefix, const char *screen_id, char *const *groups,
                         size_t n_groups, const char *topic, struct fleet_topic *out, char *err,
                         size_t errlen);

/* {"command": "reload" | "refetch" | "screenshot"} (other keys are
 * ignored, so later versions can add arguments). */
int fleet_proto_parse_command(const char *payload, size_t len, enum fleet_command *cmd, char *err,
                              size_t errlen);
const char *fleet_proto_command_name(enum fleet_command cmd);

/* The status to publish: the app's JSON object doc (NULL: none) with
 * "online": true set. Always returns a malloc'd document; when doc is
 * not a JSON object (or too big or deep) it returns {"online":true} and
 * -1 in *rc with the reason in err, else 0. */
char *fleet_proto_status(const char *doc, int *rc, char *err, size_t errlen);

/* Delay before reconnect attempt number attempt (0 = the first after a
 * loss): min_ms doubled attempt times, capped at max_ms, then "equal
 * jitter": uniformly in [base/2, base]. Never more than max_ms. */
int64_t fleet_proto_backoff_ms(int attempt, int min_ms, int max_ms, uint64_t *rng);

/* Token bucket bounding the messages handed to the app: rate per second,
 * burst at once. take() returns how long (ms) to wait before handing on
 * this message: 0 within the budget. */
struct fleet_bucket {
    double tokens, rate, burst;
    int64_t last_ms;
};
void fleet_bucket_init(struct fleet_bucket *b, double rate, double burst, int64_t now_ms);
int64_t fleet_bucket_take(struct fleet_bucket *b, int64_t now_ms);

/* A bounded set of topics whose problem was logged: the first problem on
 * a topic is logged, the next ones are not, until the topic works again
 * (forget). When the set is full, first() says so once (*full) and
 * logs no more. */
#define FLEET_ONCE_MAX 256
struct fleet_once {
    char *keys[FLEET_ONCE_MAX];
    size_t n;
    bool full_noted;
};
/* true: log this problem (first on key). */
bool fleet_once_first(struct fleet_once *o, const char *key, bool *full);
void fleet_once_forget(struct fleet_once *o, const char *key);
void fleet_once_clear(struct fleet_once *o);

#endif
