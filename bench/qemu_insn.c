/*
 * qemu_insn: a QEMU TCG plugin (qemu-user, a host shared library) that
 * counts the guest instructions of each frame kt-bench-frames measures,
 * for the slow-CPU figures of an ARM build under emulation
 * (bench/qemu.sh). Wall time under qemu says little about a Raspberry Pi;
 * instruction counts are the same as on the board's core.
 *
 * Counting is per guest thread (qemu-user runs each thread as its own
 * vCPU): every translated block adds its instruction count to its vCPU's
 * counter when it runs. kt-bench-frames brackets each measured frame with
 * a marker system call (prctl with an option no kernel knows: 0x4b544652,
 * then 1 before the frame and 2 after it); the plugin notes the calling
 * thread's counter at both and writes one count per frame, one a line, to
 * the file given as out=FILE.
 *
 * The plugin API is QEMU's (version 1: QEMU 6.0 to 8.1; Debian 12 ships
 * 7.2). Its header is not packaged by Debian, so the few declarations used
 * are written out here, as the API documents them.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the QEMU plugin API, version 1 (what this plugin uses) ---- */

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index,
                                              int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                                              uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                                              uint64_t a8);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* ---- the plugin ---- */

#define QI_MARK 0x4b544652u
#define QI_MAX_VCPUS 256
#define QI_PRCTL_AARCH64 167
#define QI_PRCTL_ARM 172

static uint64_t qi_count[QI_MAX_VCPUS], qi_start[QI_MAX_VCPUS];
static uint64_t *qi_frames;
static size_t qi_n, qi_cap;
static const char *qi_out;
static int64_t qi_prctl = QI_PRCTL_AARCH64;

static void qi_exec(unsigned int vcpu, void *n)
{
    if (vcpu < QI_MAX_VCPUS)
        qi_count[vcpu] += (uint64_t)(uintptr_t)n;
}

static void qi_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, qi_exec, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}

static void qi_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                       uint64_t a8)
{
    (void)id, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
    if (num != qi_prctl || (uint32_t)a1 != QI_MARK || vcpu >= QI_MAX_VCPUS)
        return;
    if (a2 == 1) {
        qi_start[vcpu] = qi_count[vcpu];
    } else if (a2 == 2) {
        if (qi_n == qi_cap) {
            qi_cap = qi_cap ? qi_cap * 2 : 1024;
            qi_frames = realloc(qi_frames, qi_cap * sizeof *qi_frames);
            if (!qi_frames)
                abort();
        }
        qi_frames[qi_n++] = qi_count[vcpu] - qi_start[vcpu];
    }
}

static void qi_exit(qemu_plugin_id_t id, void *p)
{
    (void)id, (void)p;
    FILE *f = fopen(qi_out, "w");
    if (!f)
        return;
    for (size_t i = 0; i < qi_n; i++)
        fprintf(f, "%" PRIu64 "\n", qi_frames[i]);
    fclose(f);
}

__attribute__((visibility("default"))) int
qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "out=", 4) == 0)
            qi_out = argv[i] + 4;
    if (!qi_out || info->system_emulation)
        return -1;
    if (strcmp(info->target_name, "arm") == 0)
        qi_prctl = QI_PRCTL_ARM;
    qemu_plugin_register_vcpu_tb_trans_cb(id, qi_trans);
    qemu_plugin_register_vcpu_syscall_cb(id, qi_syscall);
    qemu_plugin_register_atexit_cb(id, qi_exit, NULL);
    return 0;
}
