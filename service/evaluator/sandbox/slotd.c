/*
 * verdict-slotd: the per-slot run supervisor of the Verdict sandbox.
 *
 * One instance runs (as root) for each sandbox slot a harness process uses. It moves itself
 * into the slot's cgroups once, at start: moving a process between cgroup v1 hierarchies costs
 * ~10 ms (an RCU grace period), while a child forked here is born in them for free. Then, for
 * every run the harness asks for over the SOCK_SEQPACKET socket on fd 3, it
 *   - forks the child that starts a new session, sets the rlimits, drops to the slot's uid/gid
 *     (root ignores RLIMIT_NPROC) and execs the command (bwrap) with an EMPTY environment;
 *   - is a child subreaper, so every orphan of the run is reaped here;
 *   - enforces the wall clock and the cgroup CPU limit; on timeout, CPU overrun, a "kill"
 *     message (output overflow) or the harness going away it kills the process group, the
 *     command and every other pid in the slot's cgroups;
 *   - never waits for pipe EOF: it answers when the command and the cgroup are gone;
 *   - moves to a fresh network namespace when a run left a socket in the slot's one (a socket
 *     sent over a unix socket in a cycle outlives its processes until the kernel's garbage
 *     collector finds it: an abstract name the next run could see and connect to).
 *
 * Start: verdict-slotd STAGE ETC CGROUP_PROCS...   (fd 3: the socket). It builds its seccomp
 * filter, enters a mount namespace of its own, mounts a private tmpfs on STAGE and copies the
 * directory ETC to STAGE/etc, joins the cgroups, enters a network namespace of its own (both
 * namespaces are kept for its runs) and answers "ready" or "error MSG".
 * Request: one message, NUL-separated words
 *     [-u UID -g GID] [-B PATH]... [-w WALL_MS] [-c CPU_MS -C CPU_FILE [-b CPU_BASE_US]]
 *     [-r RES:SOFT:HARD]... [-j FD] [-s FD] [-a COUNT] [-i STDIN] -- ARGV...
 *   with three fds attached (SCM_RIGHTS): the program's stdin, stdout and stderr; or two,
 *   stdout and stderr, with "-i STDIN", a file this daemon opens as the program's stdin
 *   (a regular file through a detached copy of its mount, so that /proc/self/fd/0 reads "/"
 *   instead of its host path). The i-th "-B PATH" (a host path chosen by the harness) is
 *   bind-mounted on STAGE/i in the daemon's private mount namespace for the run, so bwrap
 *   (unprivileged) can bind it from there whatever the permissions of the path's ancestors.
 *   "-j FD": the command's fd FD is the write end of a pipe read after the run (bwrap's
 *   --json-status-fd). "-s FD": the seccomp filter is at FD (bwrap's --seccomp). "-a COUNT"
 *   hands the COUNT words after ARGV[0] to the command in a file, as ARGV[0] --args FD
 *   ARGV[COUNT+1]...: bwrap's command line, readable inside the sandbox as /proc/1/cmdline,
 *   then names no host path.
 * Answer: "exit STATUS TIMEDOUT CPUKILLED REQKILLED WALL_US JSON_EXIT CHILD_CPU_US ENDED_US"
 *     (ENDED_US: CLOCK_MONOTONIC when the command ended, to order two runs of a pair)
 *     or "error MESSAGE" when the command could not be started.
 * Message "kill" during a run ends it. The daemon exits when the socket closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif

#define RUN_NICENESS 10

#define SOCK_FD 3
#define MAX_CGROUPS 8
#define MAX_RLIMITS 16
#define MAX_WORDS 4096
#define MAX_MESSAGE (256 * 1024)
#define MAX_FDS 40
#define CPU_POLL_MS 50
#define STAGE_TMPFS_OPTIONS "mode=0755,size=64m"
#define MAX_COPY_DEPTH 16

static const char *cgroup_procs[MAX_CGROUPS];
static int n_cgroups = 0;
static pid_t self_pid;
static int sig_fd = -1;
static long long children_cpu_before = 0;
static const char *stage_dir = NULL;
static int filter_fd = -1; /* the compiled seccomp filter (a memfd), for bwrap --seccomp */
static const char *filter_error = "not built";

static void answer(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n >= (int)sizeof buf) n = sizeof buf - 1;
    if (send(SOCK_FD, buf, (size_t)n, MSG_NOSIGNAL) < 0) _exit(0);
}

static long long now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* CPU time used by a cgroup in microseconds: v1 cpuacct.usage (ns) or v2 cpu.stat. */
static long long cgroup_cpu_us(const char *path) {
    char buf[1024];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    if (buf[0] >= '0' && buf[0] <= '9') return strtoll(buf, NULL, 10) / 1000;
    char *p = strstr(buf, "usage_usec ");
    return p ? strtoll(p + 11, NULL, 10) : -1;
}

/* Kill every pid listed in the slot's cgroups but this daemon; return how many there were. */
static int sweep_cgroups(void) {
    int found = 0;
    char buf[8192];
    for (int i = 0; i < n_cgroups; i++) {
        int fd = open(cgroup_procs[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n;
        size_t have = 0;
        while ((n = read(fd, buf + have, sizeof buf - 1 - have)) > 0) {
            have += (size_t)n;
            buf[have] = 0;
            char *line = buf, *nl;
            while ((nl = strchr(line, '\n')) != NULL) {
                *nl = 0;
                pid_t pid = (pid_t)atoi(line);
                if (pid > 1 && pid != self_pid) {
                    kill(pid, SIGKILL);
                    found++;
                }
                line = nl + 1;
            }
            have = strlen(line);
            memmove(buf, line, have);
        }
        close(fd);
    }
    return found;
}

static void kill_all(pid_t child) {
    if (child > 0) {
        kill(-child, SIGKILL);
        kill(child, SIGKILL);
    }
    sweep_cgroups();
}

static rlim_t parse_limit(const char *text, char **end) {
    if (strncmp(text, "inf", 3) == 0) {
        *end = (char *)text + 3;
        return RLIM_INFINITY;
    }
    return (rlim_t)strtoull(text, end, 10);
}

static int parse_rlimit(const char *arg, int *res, struct rlimit *rl) {
    char *end;
    *res = (int)strtol(arg, &end, 10);
    if (*end != ':') return -1;
    rl->rlim_cur = parse_limit(end + 1, &end);
    if (*end != ':') return -1;
    rl->rlim_max = parse_limit(end + 1, &end);
    return *end == 0 ? 0 : -1;
}

/* Bind-mount source on STAGE/index (a directory or a file, like the source). */
static int stage_mount(const char *source, int index) {
    char target[4096];
    struct stat st, cur;
    if (stat(source, &st) < 0) return -1;
    snprintf(target, sizeof target, "%s/%d", stage_dir, index);
    int is_dir = S_ISDIR(st.st_mode);
    if (lstat(target, &cur) == 0 && (S_ISDIR(cur.st_mode) != is_dir || S_ISLNK(cur.st_mode))) {
        if ((S_ISDIR(cur.st_mode) ? rmdir(target) : unlink(target)) < 0) return -1;
    }
    if (is_dir) {
        if (mkdir(target, 0755) < 0 && errno != EEXIST) return -1;
    } else {
        int made = open(target, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (made < 0) return -1;
        close(made);
    }
    return mount(source, target, NULL, MS_BIND | MS_REC, NULL);
}

static void unstage(int count) {
    char target[4096];
    for (int i = 0; i < count; i++) {
        snprintf(target, sizeof target, "%s/%d", stage_dir, i);
        umount2(target, MNT_DETACH);
    }
}

/* Copy (from_dir, from) to (to_dir, to) recursively: directories, regular files, symlinks. */
static int copy_tree(int from_dir, const char *from, int to_dir, const char *to, int depth) {
    struct stat st;
    if (depth > MAX_COPY_DEPTH || fstatat(from_dir, from, &st, AT_SYMLINK_NOFOLLOW) < 0) return -1;
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlinkat(from_dir, from, target, sizeof target - 1);
        if (n < 0) return -1;
        target[n] = 0;
        return symlinkat(target, to_dir, to);
    }
    if (S_ISREG(st.st_mode)) {
        int in = openat(from_dir, from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0) return -1;
        int out = openat(to_dir, to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        int rc = out < 0 ? -1 : 0;
        char buf[65536];
        ssize_t n;
        while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0)
            if (n < 0 || write(out, buf, (size_t)n) != n) rc = -1;
        close(in);
        if (out >= 0) close(out);
        return rc;
    }
    if (!S_ISDIR(st.st_mode)) return 0;
    if (mkdirat(to_dir, to, 0755) < 0) return -1;
    int src = openat(from_dir, from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int dst = openat(to_dir, to, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = src < 0 || dst < 0 ? NULL : fdopendir(src);
    int rc = dir ? 0 : -1;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir(dir)) != NULL)
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            rc = copy_tree(src, entry->d_name, dst, entry->d_name, depth + 1);
    if (dir) closedir(dir);
    else if (src >= 0) close(src);
    if (dst >= 0) close(dst);
    return rc;
}

/* Make STAGE a tmpfs of this namespace holding a copy of ETC at STAGE/etc: a bind mount shows
 * its source's path on its filesystem in /proc/self/mountinfo, this copy shows "/etc". Done
 * before joining the slot's cgroups, so that its pages are not charged to every run. */
static int prepare_stage(const char *etc) {
    if (mount("tmpfs", stage_dir, "tmpfs", MS_NOSUID | MS_NODEV, STAGE_TMPFS_OPTIONS) < 0)
        return -1;
    int to = open(stage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (to < 0) return -1;
    int rc = copy_tree(AT_FDCWD, etc, to, "etc", 0);
    close(to);
    return rc;
}

/* Reopen a regular file through a detached copy of its mount (root: the file itself), so
 * that readlink of the descriptor shows "/" rather than where the file lives on the host.
 * Without open_tree (Linux < 5.2) the descriptor is kept as it is. The file must have been
 * opened in this mount namespace: open_tree only clones mounts of the caller's namespace. */
static int neutral_file(int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) return fd;
    int tree = (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0) return fd;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", tree);
    int reopened = open(path, O_RDONLY | O_CLOEXEC);
    close(tree);
    if (reopened < 0) return fd;
    close(fd);
    return reopened;
}

/* Return a memfd holding words[0..n) NUL-separated (bwrap's --args format), or -1. */
static int args_file(char **words, int n) {
    int fd = (int)syscall(SYS_memfd_create, "args", MFD_CLOEXEC);
    if (fd < 0) return -1;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(words[i]) + 1;
        if (write(fd, words[i], len) != (ssize_t)len) {
            close(fd);
            return -1;
        }
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void close_fds(const int *fds, int n) {
    for (int i = 0; i < n; i++) close(fds[i]);
}

/* ---- The seccomp filter: what judged programs (and compilers) never need -------------------
 * A deny list, by design: a program may use any system call but these. Each is refused with
 * an errno, not a kill, so that runtimes probing for a feature fall back (ENOSYS: "this kernel
 * has none"; EPERM: "not allowed"). Only the native ABI is served: 32-bit (int 0x80) and x32
 * calls of an x86_64 program, and 32-bit calls on arm64, get ENOSYS. bwrap loads the filter in
 * its init and in the program, after its own setup. */
#if defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#endif
#define MAX_FILTER 256
#define NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
                         CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
#define DENY(nr, err) {nr, err}

struct denial { long nr; int err; };

static const struct denial denied_calls[] = {
    /* io_uring: its own path to most of the kernel, and SQPOLL's kernel thread works for the
     * program outside its CPU accounting. */
    DENY(__NR_io_uring_setup, ENOSYS), DENY(__NR_io_uring_enter, ENOSYS),
    DENY(__NR_io_uring_register, ENOSYS),
    /* Kernel objects that outlive the run (the slot uid's keyrings: a channel between runs) or
     * widen the kernel's attack surface. */
    DENY(__NR_keyctl, ENOSYS), DENY(__NR_add_key, ENOSYS), DENY(__NR_request_key, ENOSYS),
    DENY(__NR_userfaultfd, ENOSYS), DENY(__NR_bpf, ENOSYS), DENY(__NR_perf_event_open, ENOSYS),
    /* glibc falls back to clone (checked below) for threads and processes. */
    DENY(__NR_clone3, ENOSYS),
    /* Other processes' memory and state. */
    DENY(__NR_ptrace, EPERM), DENY(__NR_process_vm_readv, EPERM),
    DENY(__NR_process_vm_writev, EPERM), DENY(__NR_kcmp, EPERM),
#ifdef __NR_pidfd_getfd
    DENY(__NR_pidfd_getfd, EPERM),
#endif
#ifdef __NR_process_madvise
    DENY(__NR_process_madvise, EPERM),
#endif
    /* Namespaces and mounts: bwrap set them up, nothing in the sandbox changes them. */
    DENY(__NR_unshare, EPERM), DENY(__NR_setns, EPERM), DENY(__NR_mount, EPERM),
    DENY(__NR_umount2, EPERM), DENY(__NR_pivot_root, EPERM), DENY(__NR_chroot, EPERM),
    DENY(__NR_open_tree, EPERM), DENY(__NR_move_mount, EPERM), DENY(__NR_fsopen, EPERM),
    DENY(__NR_fsconfig, EPERM), DENY(__NR_fsmount, EPERM), DENY(__NR_fspick, EPERM),
#ifdef __NR_mount_setattr
    DENY(__NR_mount_setattr, EPERM),
#endif
#ifdef __NR_statmount
    DENY(__NR_statmount, EPERM), DENY(__NR_listmount, EPERM),
#endif
    DENY(__NR_open_by_handle_at, EPERM), DENY(__NR_name_to_handle_at, EPERM),
    /* The machine's: none is needed to judge, each needs a privilege the sandbox lacks. */
    DENY(__NR_kexec_load, ENOSYS), DENY(__NR_kexec_file_load, ENOSYS),
    DENY(__NR_init_module, EPERM), DENY(__NR_finit_module, EPERM),
    DENY(__NR_delete_module, EPERM), DENY(__NR_reboot, EPERM), DENY(__NR_swapon, EPERM),
    DENY(__NR_swapoff, EPERM), DENY(__NR_acct, EPERM), DENY(__NR_syslog, EPERM),
    DENY(__NR_quotactl, EPERM), DENY(__NR_settimeofday, EPERM),
    DENY(__NR_clock_settime, EPERM), DENY(__NR_clock_adjtime, EPERM),
    DENY(__NR_vhangup, EPERM),
#ifdef __NR_quotactl_fd
    DENY(__NR_quotactl_fd, EPERM),
#endif
#ifdef __x86_64__
    DENY(__NR_iopl, EPERM), DENY(__NR_ioperm, EPERM), DENY(__NR_uselib, ENOSYS),
    DENY(__NR_lookup_dcookie, ENOSYS),
#endif
};

/* personality(2) values allowed: query, PER_LINUX, PER_LINUX32, UNAME26 variants (as Docker). */
static const unsigned personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffffu};
/* Socket families allowed; the rest (netlink, vsock, packet, alg, ...) is EAFNOSUPPORT. */
static const unsigned families[] = {AF_UNIX, AF_INET, AF_INET6};

static struct sock_filter filter[MAX_FILTER];
static int filter_len = 0;

static void emit(struct sock_filter instruction) {
    if (filter_len < MAX_FILTER) filter[filter_len] = instruction;
    filter_len++;
}

#define LOAD(field) emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
                                                     offsetof(struct seccomp_data, field)))
#define RETURN(value) emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (value)))
#define JUMP(op, k, yes, no) emit((struct sock_filter)BPF_JUMP(BPF_JMP | (op) | BPF_K, (k), (yes), (no)))
#define ERRNO(err) (SECCOMP_RET_ERRNO | ((err) & SECCOMP_RET_DATA))
/* The low 32 bits of the first argument (both supported ABIs are little-endian). */
#define ARG0_LOW args[0]

/* For system call nr: allow when its first argument is one of values[], else fail with err. */
static void only_values(long nr, const unsigned *values, int n, int err) {
    JUMP(BPF_JEQ, (unsigned)nr, 0, (unsigned char)(n + 3));
    LOAD(ARG0_LOW);
    for (int i = 0; i < n; i++) JUMP(BPF_JEQ, values[i], (unsigned char)(n - i), 0);
    RETURN(ERRNO(err));
    RETURN(SECCOMP_RET_ALLOW);
}

/* Build the filter into a memfd (filter_fd); on failure say why in filter_error. */
static void build_filter(void) {
#ifndef FILTER_ARCH
    filter_error = "no seccomp filter for this architecture (x86_64 and arm64 only)";
    return;
#else
    LOAD(arch);
    JUMP(BPF_JEQ, FILTER_ARCH, 1, 0);
    RETURN(ERRNO(ENOSYS));
    LOAD(nr);
#ifdef __x86_64__
    JUMP(BPF_JGE, __X32_SYSCALL_BIT, 0, 1);
    RETURN(ERRNO(ENOSYS));
#endif
    for (size_t i = 0; i < sizeof denied_calls / sizeof denied_calls[0]; i++) {
        JUMP(BPF_JEQ, (unsigned)denied_calls[i].nr, 0, 1);
        RETURN(ERRNO(denied_calls[i].err));
    }
    int n_families = (int)(sizeof families / sizeof families[0]);
    only_values(__NR_socket, families, n_families, EAFNOSUPPORT);
    LOAD(nr);
    only_values(__NR_socketpair, families, n_families, EAFNOSUPPORT);
    LOAD(nr);
    only_values(__NR_personality, personalities,
                (int)(sizeof personalities / sizeof personalities[0]), EPERM);
    LOAD(nr);
    /* clone(2) may not make namespaces (bwrap's --disable-userns already stops most). */
    JUMP(BPF_JEQ, __NR_clone, 0, 3);
    LOAD(ARG0_LOW);
    JUMP(BPF_JSET, NAMESPACE_FLAGS, 0, 1);
    RETURN(ERRNO(EPERM));
    RETURN(SECCOMP_RET_ALLOW);
    if (filter_len > MAX_FILTER) {
        filter_error = "the seccomp filter is too long";
        return;
    }
    int fd = (int)syscall(SYS_memfd_create, "seccomp", MFD_CLOEXEC);
    size_t size = sizeof filter[0] * (size_t)filter_len;
    if (fd < 0 || write(fd, filter, size) != (ssize_t)size) {
        filter_error = "cannot write the seccomp filter";
        if (fd >= 0) close(fd);
        return;
    }
    filter_fd = fd;
#endif
}

/* Return how many sockets exist in this process's network namespace (-1: unknown). */
static long sockets_in_netns(void) {
    char buf[512];
    int fd = open("/proc/self/net/sockstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *used = strstr(buf, "sockets: used ");
    return used ? strtol(used + 14, NULL, 10) : -1;
}

/* Give the next runs a network namespace of their own when this one still holds a socket
 * (the supervisor itself has none in it); the old one goes with its last socket. */
static int renew_netns_if_used(void) {
    if (sockets_in_netns() == 0) return 0;
    return unshare(CLONE_NEWNET);
}

static void drain_signals(void) {
    struct signalfd_siginfo si;
    while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {}
}

/* Run one request; return 0 normally, -1 when the harness went away. */
static int run(char **words, int n_words, int fds[MAX_FDS], int n_fds) {
    static char *empty_env[] = {NULL};
    long uid = -1, gid = -1, wall_ms = 0, cpu_ms = 0;
    long long cpu_base = 0;
    const char *cpu_file = NULL, *stdin_path = NULL;
    int json_fd = -1, filter_at = -1;
    int rl_res[MAX_RLIMITS];
    struct rlimit rl_val[MAX_RLIMITS];
    int n_rlimits = 0;
    const char *binds[MAX_FDS];
    int n_binds = 0, pass_args = -1;

    optind = 0;
    int opt;
    while ((opt = getopt(n_words, words, "+u:g:B:w:c:C:b:r:j:a:i:s:")) != -1) {
        switch (opt) {
        case 'u': uid = atol(optarg); break;
        case 'g': gid = atol(optarg); break;
        case 'B':
            if (n_binds == MAX_FDS) {
                answer("error too many binds");
                close_fds(fds, n_fds);
                return 0;
            }
            binds[n_binds++] = optarg;
            break;
        case 'w': wall_ms = atol(optarg); break;
        case 'c': cpu_ms = atol(optarg); break;
        case 'C': cpu_file = optarg; break;
        case 'b': cpu_base = atoll(optarg); break;
        case 'j': json_fd = atoi(optarg); break;
        case 'a': pass_args = atoi(optarg); break;
        case 'i': stdin_path = optarg; break;
        case 's': filter_at = atoi(optarg); break;
        case 'r':
            if (n_rlimits == MAX_RLIMITS ||
                parse_rlimit(optarg, &rl_res[n_rlimits], &rl_val[n_rlimits]) < 0) {
                answer("error bad rlimit %s", optarg);
                close_fds(fds, n_fds);
                return 0;
            }
            n_rlimits++;
            break;
        default: answer("error bad option"); close_fds(fds, n_fds); return 0;
        }
    }
    if (stdin_path != NULL && n_fds >= MAX_FDS) {
        answer("error bad request: too many fds");
        close_fds(fds, n_fds);
        return 0;
    }
    if (stdin_path != NULL) {
        /* Non-blocking: a FIFO without a writer must not stall the daemon. */
        int in = open(stdin_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (in >= 0) fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
        if (in < 0) {
            answer("error cannot open stdin %s: %s", stdin_path, strerror(errno));
            close_fds(fds, n_fds);
            return 0;
        }
        memmove(fds + 1, fds, sizeof fds[0] * (size_t)n_fds);
        fds[0] = neutral_file(in);
        n_fds++;
    }
    if (n_fds < 3) {
        answer("error bad request: no stdio");
        close_fds(fds, n_fds);
        return 0;
    }
    if (optind >= n_words) {
        answer("error no command");
        close_fds(fds, n_fds);
        return 0;
    }
    char **command = &words[optind];
    int n_command = n_words - optind;
    if (pass_args >= n_command) {
        answer("error -a %d: too few words", pass_args);
        close_fds(fds, n_fds);
        return 0;
    }

    int n_staged = 0;
    for (int i = 0; i < n_binds; i++) {
        if (stage_mount(binds[i], i) < 0) {
            answer("error cannot stage bind %s: %s", binds[i], strerror(errno));
            unstage(n_staged);
            close_fds(fds, n_fds);
            return 0;
        }
        n_staged++;
    }
    int args_fd = -1;
    if (pass_args >= 0 && (args_fd = args_file(command + 1, pass_args)) < 0) {
        answer("error cannot pass the arguments: %s", strerror(errno));
        unstage(n_staged);
        close_fds(fds, n_fds);
        return 0;
    }
    if (filter_at >= 0 && (filter_fd < 0 || lseek(filter_fd, 0, SEEK_SET) < 0)) {
        answer("error no seccomp filter: %s", filter_error);
        unstage(n_staged);
        close_fds(fds, n_fds);
        if (args_fd >= 0) close(args_fd);
        return 0;
    }
    int json_pipe[2] = {-1, -1}, err_pipe[2];
    if ((json_fd >= 0 && pipe2(json_pipe, O_CLOEXEC) < 0) || pipe2(err_pipe, O_CLOEXEC) < 0) {
        answer("error pipe: %s", strerror(errno));
        unstage(n_staged);
        close_fds(fds, n_fds);
        if (args_fd >= 0) close(args_fd);
        return 0;
    }
    drain_signals();
    long long start = now_us();
    pid_t child = fork();
    if (child < 0) {
        answer("error fork: %s", strerror(errno));
        unstage(n_staged);
        close_fds(fds, n_fds);
        if (args_fd >= 0) close(args_fd);
        return 0;
    }
    if (child == 0) {
        const char *step = "fds";
        /* Place the fds: stdio at 0-2, bwrap's status pipe at json_fd, the seccomp filter at
         * filter_at and the arguments file after the highest of them; lift them all above
         * the targets first, then close everything else below 64. */
        int src[6], dst[6], n_place = 0;
        for (int i = 0; i < 3; i++) src[n_place] = fds[i], dst[n_place++] = i;
        if (json_fd >= 0) src[n_place] = json_pipe[1], dst[n_place++] = json_fd;
        if (filter_at >= 0) src[n_place] = filter_fd, dst[n_place++] = filter_at;
        int top = 2;
        for (int k = 0; k < n_place; k++) top = dst[k] > top ? dst[k] : top;
        if (args_fd >= 0) src[n_place] = args_fd, dst[n_place++] = top + 1;
        int high[6];
        for (int k = 0; k < n_place; k++)
            if ((high[k] = fcntl(src[k], F_DUPFD_CLOEXEC, 64)) < 0) goto fail;
        int err_fd = fcntl(err_pipe[1], F_DUPFD_CLOEXEC, 64);
        if (err_fd < 0) goto fail;
        err_pipe[1] = err_fd;
        for (int k = 0; k < n_place; k++)
            if (dst[k] >= 64 || dup2(high[k], dst[k]) < 0) goto fail;
        for (int fd = 3; fd < 64; fd++) {
            int placed = 0;
            for (int k = 0; k < n_place; k++) placed |= dst[k] == fd;
            if (!placed) close(fd);
        }
        char args_text[16];
        char *args_argv[MAX_WORDS + 3];
        if (args_fd >= 0) {
            snprintf(args_text, sizeof args_text, "%d", top + 1);
            /* The options are in the file; what follows them (the program) stays here. */
            int n = 0;
            args_argv[n++] = command[0];
            args_argv[n++] = "--args";
            args_argv[n++] = args_text;
            for (int i = pass_args + 1; i < n_command; i++) args_argv[n++] = command[i];
            args_argv[n] = NULL;
        }
        umask(022);
        step = "setsid";
        if (setsid() < 0) goto fail;
        /* Judged programs yield the CPU to the web server: a saturated evaluator must not slow
         * pages down. CPU-time limits are unaffected; only wall time stretches under load. */
        step = "nice";
        errno = 0;
        if (nice(RUN_NICENESS) == -1 && errno != 0) goto fail;
        step = "setrlimit";
        for (int i = 0; i < n_rlimits; i++)
            if (setrlimit(rl_res[i], &rl_val[i]) < 0) goto fail;
        if (gid >= 0) {
            step = "setgroups";
            if (setgroups(0, NULL) < 0) goto fail;
            step = "setgid";
            if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0) goto fail;
        }
        if (uid >= 0) {
            step = "setuid";
            if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0) goto fail;
        }
        /* Set after the uid change, which clears it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        step = "exec";
        execve(command[0], args_fd >= 0 ? args_argv : command, empty_env);
    fail:;
        char msg[512];
        int n = snprintf(msg, sizeof msg, "%s %s: %s", step, command[0], strerror(errno));
        if (write(err_pipe[1], msg, (size_t)n) < 0) _exit(127);
        _exit(127);
    }
    for (int i = 0; i < n_fds; i++) close(fds[i]);
    if (args_fd >= 0) close(args_fd);
    close(err_pipe[1]);
    if (json_pipe[1] >= 0) close(json_pipe[1]);

    char errmsg[512];
    ssize_t got = read(err_pipe[0], errmsg, sizeof errmsg - 1);
    close(err_pipe[0]);
    int status = 0, timed_out = 0, cpu_killed = 0, req_killed = 0, done = 0, gone = 0;
    if (got > 0) {
        errmsg[got] = 0;
        kill_all(child);
        waitpid(child, NULL, 0);
        unstage(n_staged);
        if (json_pipe[0] >= 0) close(json_pipe[0]);
        answer("error %s", errmsg);
        return 0;
    }

    long long deadline = wall_ms > 0 ? start + wall_ms * 1000LL : 0;
    while (!done) {
        long long now = now_us();
        if (deadline && now >= deadline) {
            timed_out = 1;
            kill_all(child);
            deadline = 0;
        }
        int timeout = 1000;
        if (deadline) timeout = (int)((deadline - now + 999) / 1000);
        if (cpu_ms > 0 && cpu_file && !cpu_killed && timeout > CPU_POLL_MS) timeout = CPU_POLL_MS;
        struct pollfd pfd[2] = {{sig_fd, POLLIN, 0}, {SOCK_FD, POLLIN, 0}};
        int ready = poll(pfd, gone ? 1 : 2, timeout);
        if (ready > 0 && pfd[0].revents) {
            drain_signals();
            pid_t p;
            int st;
            while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                if (p == child) {
                    status = st;
                    done = 1;
                }
        }
        if (ready > 0 && !gone && pfd[1].revents) {
            char msg[64];
            ssize_t n = recv(SOCK_FD, msg, sizeof msg, MSG_DONTWAIT);
            if (n <= 0 && !(n < 0 && errno == EAGAIN)) gone = 1;
            req_killed = 1;
            kill_all(child);
        }
        if (ready == 0 && cpu_ms > 0 && cpu_file && !cpu_killed) {
            long long used = cgroup_cpu_us(cpu_file);
            if (used - cpu_base > cpu_ms * 1000LL) {
                cpu_killed = 1;
                kill_all(child);
            }
        }
    }
    long long ended = now_us();
    long long wall = ended - start;

    /* The command is gone: end whatever is left of the run and reap every orphan. */
    for (int round = 0; round < 500; round++) {
        int left = sweep_cgroups();
        pid_t p;
        while ((p = waitpid(-1, NULL, WNOHANG)) > 0) {}
        int no_children = p < 0 && errno == ECHILD;
        if (left == 0 && no_children) break;
        struct pollfd pfd = {sig_fd, POLLIN, 0};
        if (poll(&pfd, 1, no_children ? 1 : 10) > 0) drain_signals();
    }

    unstage(n_staged);
    int net_renewed = renew_netns_if_used();
    int json_exit = -1;
    if (json_pipe[0] >= 0) {
        char buf[4096];
        fcntl(json_pipe[0], F_SETFL, O_NONBLOCK);
        ssize_t n = read(json_pipe[0], buf, sizeof buf - 1);
        close(json_pipe[0]);
        if (n > 0) {
            buf[n] = 0;
            char *p = strstr(buf, "\"exit-code\"");
            if (p && (p = strchr(p, ':')) != NULL) json_exit = atoi(p + 1);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    long long children_cpu = (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec +
                             (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
    if (gone) return -1;
    answer("exit %d %d %d %d %lld %d %lld %lld", status, timed_out, cpu_killed, req_killed, wall,
           json_exit, children_cpu - children_cpu_before, ended);
    children_cpu_before = children_cpu;
    /* Without a clean network namespace no further run may start here: the harness starts a
     * new supervisor (a new namespace) for the next one. */
    return net_renewed < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
    self_pid = getpid();
    syscall(SYS_close_range, SOCK_FD + 1, ~0U, 0);
    if (argc < 3) {
        answer("error usage: verdict-slotd STAGE ETC CGROUP_PROCS...");
        return 1;
    }
    stage_dir = argv[1];
    for (int i = 3; i < argc && n_cgroups < MAX_CGROUPS; i++) cgroup_procs[n_cgroups++] = argv[i];
    /* Staged binds stay in this daemon's own mount namespace, never seen by the host. */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
        answer("error cannot create the slot mount namespace: %s", strerror(errno));
        return 1;
    }
    build_filter();
    if (prepare_stage(argv[2]) < 0) {
        answer("error cannot prepare the stage %s with %s: %s", stage_dir, argv[2], strerror(errno));
        return 1;
    }

    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "%d\n", (int)self_pid);
    for (int i = 0; i < n_cgroups; i++) {
        int fd = open(cgroup_procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid_text, strlen(pid_text)) < 0) {
            answer("error cannot join cgroup %s: %s", cgroup_procs[i], strerror(errno));
            return 1;
        }
        close(fd);
    }
    /* The slot's own network namespace (loopback down, nothing else), made once: creating and
     * destroying one per run costs more than all the rest of bwrap's setup. Runs of this slot
     * follow each other and leave nothing in it (their sockets die with them). */
    if (unshare(CLONE_NEWNET) < 0) {
        answer("error cannot create the slot network namespace: %s", strerror(errno));
        return 1;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        answer("error cannot become a child subreaper: %s", strerror(errno));
        return 1;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sig_fd < 0) {
        answer("error signalfd: %s", strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    answer("ready");

    static char message[MAX_MESSAGE + 1];
    char *words[MAX_WORDS + 1];
    for (;;) {
        struct iovec iov = {message, MAX_MESSAGE};
        union {
            char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
            struct cmsghdr align;
        } control;
        struct msghdr msg = {0};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        ssize_t n = recvmsg(SOCK_FD, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        int fds[MAX_FDS], n_fds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < count; i++) {
                    int fd;
                    memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    if (n_fds < MAX_FDS) fds[n_fds++] = fd;
                    else close(fd);
                }
            }
        if (n_fds < 2 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
            for (int i = 0; i < n_fds; i++) close(fds[i]);
            if (n == 4 && memcmp(message, "kill", 4) == 0) continue; /* late kill: run over */
            answer("error bad request");
            continue;
        }
        message[n] = 0;
        int n_words = 0;
        words[n_words++] = "verdict-slotd";
        for (char *p = message; p < message + n && n_words < MAX_WORDS; p += strlen(p) + 1)
            words[n_words++] = p;
        words[n_words] = NULL;
        if (run(words, n_words, fds, n_fds) < 0) return 0;
    }
}
