/*
 * ctl: see ctl.h. One libcurl request per call, straight to the address
 * the ticker listens on: never through a proxy (http_proxy in a service's
 * environment must not send local commands elsewhere), http only, short
 * timeouts, a bounded answer.
 */
#include "ctl.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "api_addr.h"
#include "api_token.h"
#include "message.h"
#include "transport.h"
#include "util.h"

#define CTL_CONNECT_TIMEOUT_S 3L
#define CTL_MAX_RESPONSE (16u * 1024u * 1024u)

struct ctl_resp {
    struct kt_buf body;
    bool too_big;
};

static size_t ctl_write(char *data, size_t size, size_t n, void *userdata)
{
    struct ctl_resp *r = userdata;
    size_t len = size * n;
    if (r->body.len + len > CTL_MAX_RESPONSE) {
        r->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    kt_buf_append(&r->body, data, len);
    return len;
}

/* The "error" of an API answer, or the body itself when it is not one. */
static void ctl_refused(long status, const struct kt_buf *body, char *err, size_t errlen)
{
    const char *why = NULL;
    struct json_object *o = body->len ? json_tokener_parse(body->data) : NULL, *e;
    if (o && json_object_object_get_ex(o, "error", &e) && json_object_is_type(e, json_type_string))
        why = json_object_get_string(e);
    kt_error(err, errlen, "the ticker refused: %ld %s", status, why ? why : "(no reason given)");
    json_object_put(o);
}

/* One request. 0 with the answer's status and body, or -1 with err. Only
 * 2xx answers return 0. */
static int ctl_request(const struct ctl_target *t, const char *method, const char *path,
                       const char *json, long *status, struct kt_buf *out, char *err, size_t errlen)
{
    struct api_addr addr;
    if (api_addr_parse(t->listen, &addr, err, errlen) != 0)
        return -1;
    char *token = NULL;
    if (t->token_file && api_token_read(t->token_file, &token, err, errlen) != 0)
        return -1;
    transport_global_init();
    char *base = api_addr_client_url(&addr);
    char *url = kt_asprintf("%s%s", base, path);
    CURL *h = curl_easy_init();
    if (!h) {
        free(base);
        free(url);
        free(token);
        return kt_error(err, errlen, "control: cannot start libcurl");
    }
    struct curl_slist *hdrs = NULL;
    char *auth = token ? kt_asprintf("Authorization: Bearer %s", token) : NULL;
    if (auth)
        hdrs = curl_slist_append(hdrs, auth);
    if (json) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    }
    char ebuf[CURL_ERROR_SIZE] = "";
    struct ctl_resp resp = {0};
    kt_buf_init(&resp.body);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CTL_CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, t->timeout_s > 0 ? t->timeout_s : 10L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "kiosk-ticker/" KT_VERSION " (control)");
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (json) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    }
    if (hdrs)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ctl_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    CURLcode cc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    int rc = 0;
    if (resp.too_big) {
        rc = kt_error(err, errlen, "the ticker at %s answered more than %u bytes", base,
                      CTL_MAX_RESPONSE);
    } else if (cc != CURLE_OK) {
        rc = kt_error(err, errlen,
                      "cannot reach the ticker at %s: %s (is it running, with "
                      "[control] listen = %s?)",
                      base, ebuf[0] ? ebuf : curl_easy_strerror(cc), t->listen);
    } else if (*status < 200 || *status > 299) {
        ctl_refused(*status, &resp.body, err, errlen);
        rc = -1;
    }
    if (rc == 0 && out) {
        kt_buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len);
    }
    kt_buf_free(&resp.body);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    free(url);
    free(base);
    return rc;
}

int ctl_post(const struct ctl_target *t, const char *text, const char *severity,
             const char *duration, FILE *out, char *err, size_t errlen)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "text", json_object_new_string(text ? text : ""));
    if (severity)
        json_object_object_add(o, "severity", json_object_new_string(severity));
    if (duration)
        json_object_object_add(o, "duration", json_object_new_string(duration));
    char *body = kt_strdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    long status;
    struct kt_buf resp;
    kt_buf_init(&resp);
    int rc = ctl_request(t, "POST", "/api/v1/messages", body, &status, &resp, err, errlen);
    free(body);
    if (rc == 0) {
        struct json_object *r = resp.len ? json_tokener_parse(resp.data) : NULL, *id;
        if (r && json_object_object_get_ex(r, "id", &id) &&
            json_object_is_type(id, json_type_string) &&
            message_id_valid(json_object_get_string(id)))
            fprintf(out, "%s\n", json_object_get_string(id));
        else
            rc = kt_error(err, errlen, "the ticker accepted the message but sent no id");
        json_object_put(r);
    }
    kt_buf_free(&resp);
    return rc;
}

int ctl_clear(const struct ctl_target *t, const char *id_or_all, char *err, size_t errlen)
{
    long status;
    if (id_or_all && strcmp(id_or_all, "all") == 0)
        return ctl_request(t, "DELETE", "/api/v1/messages", NULL, &status, NULL, err, errlen);
    if (!message_id_valid(id_or_all))
        return kt_error(err, errlen, "--clear: \"%.64s\" is not a message id (or all)",
                        id_or_all ? id_or_all : "");
    char *path = kt_asprintf("/api/v1/messages/%s", id_or_all);
    int rc = ctl_request(t, "DELETE", path, NULL, &status, NULL, err, errlen);
    free(path);
    return rc;
}

int ctl_status(const struct ctl_target *t, FILE *out, char *err, size_t errlen)
{
    long status;
    struct kt_buf resp;
    kt_buf_init(&resp);
    int rc = ctl_request(t, "GET", "/api/v1/state", NULL, &status, &resp, err, errlen);
    if (rc == 0) {
        fwrite(resp.data ? resp.data : "", 1, resp.len, out);
        if (!resp.len || resp.data[resp.len - 1] != '\n')
            fputc('\n', out);
    }
    kt_buf_free(&resp);
    return rc;
}
