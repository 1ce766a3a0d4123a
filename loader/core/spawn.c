// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Starting a command under trace. The child is forked and waits on a pipe
 * until it is in the traced set and its allocator is probed; only then does
 * it exec, so its first instruction is already traced. Between fork and
 * exec it makes system calls only (no malloc: it would be traced as the
 * command's). If exec fails, the errno comes back through a close-on-exec
 * pipe and the child _exit()s.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command_path.h"
#include "grow_array.h"
#include "libc_locate.h"
#include "memtrack.skel.h"
#include "tracker.h"

extern char **environ;

/* How long memtrack_spawn() waits for the command's exec to be let go: the follower is quick. */
#define SPAWN_EXEC_WAIT_MS 10000

static int probe_libc_for(struct memtrack *t, const char *path, char *libc, size_t size);

/* Probe the allocators the executable will use once it runs: its libc, and any other. */
static int probe_for_executable(struct memtrack *t, const char *path)
{
	char libc[PATH_MAX];
	int err = probe_libc_for(t, path, libc, sizeof(libc));

	/* jemalloc, tcmalloc or mimalloc linked in, preloaded, or in the executable itself */
	return err ?: discover_needed(t, path, environ, &t->err);
}

/* The libc the executable will load (or its own malloc, if it is static). */
static int probe_libc_for(struct memtrack *t, const char *path, char *libc, size_t size)
{
	int err = libc_of_executable(path, libc, size);

	if (err == -ENOEXEC)
		return tracker_fail(t, MEMTRACK_ERR_NOT_EXEC, err, "cannot execute %s: %s", path,
				    strerror(-err));
	if (!err) {
		tracker_log(t, MEMTRACK_LOG_INFO, "%s will load %s", path, libc);
		return probes_attach_object(t, libc, PROBE_REQUIRE_MALLOC, &t->err);
	}
	if (err == -ENOENT && probes_attach_object(t, path, 0, &t->err) == 0) {
		tracker_log(t, MEMTRACK_LOG_INFO, "%s is statically linked: probing its own malloc",
			    path);
		return 0;
	}
	/* Not statically linked with a malloc of its own, or an unusual layout: use ours. */
	err = libc_default(libc, size);
	if (err)
		return tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, err,
				    "cannot find the C library %s will use: name it with -l", path);
	tracker_log(t, MEMTRACK_LOG_INFO, "%s: using this system's libc %s", path, libc);
	return probes_attach_object(t, libc, PROBE_REQUIRE_MALLOC, &t->err);
}

/*
 * The USDT source: the shim must have its probes, the command may have its
 * own. The command's environment is ours with the shim appended to
 * LD_PRELOAD: its children and the programs they exec keep it, and are
 * traced as with uprobes. Only with no_children does MEMTRACK_USDT_PRELOAD
 * say what LD_PRELOAD was, so that the shim puts it back for the command's
 * children. Built before fork: it allocates.
 */
static int prepare_usdt(struct memtrack *t, const char *path, char ***envp_out)
{
	static const char ld_key[] = "LD_PRELOAD=", mark_key[] = "MEMTRACK_USDT_PRELOAD=";
	const char *theirs = NULL;
	size_t n = 0, k = 0;
	char **envp;
	int err;

	if (!t->usdt_shim)
		return tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, -ENOENT,
				    "the USDT source needs libmemtrack-usdt.so, which was not found "
				    "(set MEMTRACK_USDT_SHIM to its path)");
	err = probes_attach_usdt(t, t->usdt_shim, PROBE_REQUIRE_MALLOC, &t->err);
	if (err)
		return err;
	err = probes_attach_usdt(t, path, 0, &t->err);
	if (err && err != -ENOENT)
		return err;

	while (environ[n])
		n++;
	envp = calloc(n + 3, sizeof(*envp));
	if (!envp)
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], ld_key, sizeof(ld_key) - 1) == 0)
			theirs = environ[i] + sizeof(ld_key) - 1;
		else if (strncmp(environ[i], mark_key, sizeof(mark_key) - 1) != 0)
			envp[k++] = environ[i];
	}
	/* envp[k] (and the marker, envp[k + 1]) are ours to free: see free_envp() */
	if (asprintf(&envp[k], "%s%s%s%s", ld_key, theirs ? theirs : "", theirs ? ":" : "",
		     t->usdt_shim) < 0 ||
	    (!t->skel->rodata->follow_children &&
	     asprintf(&envp[k + 1], "%s%s%s", mark_key, theirs ? ld_key : "", theirs ? theirs : "") <
		     0)) {
		free(envp[k]);
		free(envp);
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	}
	tracker_log(t, MEMTRACK_LOG_INFO, "%s runs with %s", path, envp[k]);
	*envp_out = envp;
	return 0;
}

/* envp from prepare_usdt(): environ's pointers, then the one or two strings it made. */
static void free_envp(char **envp)
{
	static const char mark_key[] = "MEMTRACK_USDT_PRELOAD=";
	size_t n = 0;

	if (!envp)
		return;
	while (envp[n])
		n++;
	if (n >= 2 && strncmp(envp[n - 1], mark_key, sizeof(mark_key) - 1) == 0)
		free(envp[--n]);
	free(envp[n - 1]);
	free(envp);
}

struct identity {
	bool change;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
};

/* Everything the child needs to switch user, looked up before fork (lookups allocate). */
static int identity_prepare(struct memtrack *t, const struct memtrack_spawn_opts *opts,
			    struct identity *id)
{
	struct passwd *pw;

	memset(id, 0, sizeof(*id));
	if (!opts->set_user)
		return 0;
	id->change = true;
	id->uid = opts->uid;
	id->gid = opts->gid;
	pw = getpwuid(id->uid);
	if (!pw)
		return 0; /* an unnamed uid: no supplementary groups */
	id->ngroups = 64;
	for (;;) {
		int n = id->ngroups;

		if (resize_array((void **)&id->groups, (size_t)n, sizeof(gid_t)))
			return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
		if (getgrouplist(pw->pw_name, id->gid, id->groups, &n) >= 0) {
			id->ngroups = n;
			return 0;
		}
		id->ngroups = n > id->ngroups ? n : id->ngroups * 2;
	}
}

static int identity_apply(const struct identity *id)
{
	if (!id->change)
		return 0;
	if (setgroups((size_t)id->ngroups, id->groups) || setgid(id->gid) || setuid(id->uid))
		return errno;
	return 0;
}

static void write_all(int fd, const void *buf, size_t len)
{
	while (len && write(fd, buf, len) < 0 && errno == EINTR)
		;
}

static __attribute__((noreturn)) void child_main(const char *path, char *const argv[],
						  char *const envp[], const struct identity *id,
						  int stdout_fd, int go_fd, int status_fd)
{
	char go;
	sigset_t none;
	int err = 0;
	ssize_t n;

	do
		n = read(go_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the tracer gave up on us */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (stdout_fd > 0 && stdout_fd != STDOUT_FILENO && dup2(stdout_fd, STDOUT_FILENO) < 0)
		err = errno;
	if (!err)
		err = identity_apply(id);
	if (!err) {
		execve(path, argv, envp);
		err = errno;
	}
	write_all(status_fd, &err, sizeof(err));
	_exit(err == ENOENT ? 127 : 126);
}

/* Did the child report an exec failure? Returns its errno, or 0 once exec closed the pipe. */
static int read_exec_status(int fd)
{
	int child_errno = 0;
	ssize_t n;

	do
		n = read(fd, &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	return n == sizeof(child_errno) ? child_errno : 0;
}

int memtrack_spawn(struct memtrack *t, char *const argv[],
		   const struct memtrack_spawn_opts *caller_opts, pid_t *pid_out)
{
	struct memtrack_spawn_opts opts;
	char path[PATH_MAX], **envp = NULL;
	struct identity id = { 0 };
	int go[2] = { -1, -1 }, status[2] = { -1, -1 };
	int err, child_errno;
	pid_t pid;

	if (opts_copy(&opts, sizeof(opts), caller_opts))
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL,
				    "struct memtrack_spawn_opts: sz must be set");
	if (!argv || !argv[0] || !argv[0][0])
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL, "no command to run");
	err = command_resolve(argv[0], getenv("PATH"), path, sizeof(path));
	if (err == -ENOENT)
		return tracker_fail(t, MEMTRACK_ERR_NOT_FOUND, err, "%s: %s", argv[0],
				    strchr(argv[0], '/') ? strerror(ENOENT) : "command not found");
	if (err)
		return tracker_fail(t, MEMTRACK_ERR_NOT_EXEC, err, "cannot execute %s: %s", argv[0],
				    strerror(-err));
	pthread_mutex_lock(&t->probe_lock);
	err = t->usdt ? prepare_usdt(t, path, &envp) : probe_for_executable(t, path);
	if (!err)
		discover_unwind(t, path, envp ? envp : environ);
	pthread_mutex_unlock(&t->probe_lock);
	if (err)
		return err;
	err = identity_prepare(t, &opts, &id);
	if (err)
		goto out;

	if (pipe2(go, O_CLOEXEC) || pipe2(status, O_CLOEXEC)) {
		err = tracker_fail(t, MEMTRACK_ERR_RUNTIME, -errno, "cannot create a pipe: %s",
				   strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		err = tracker_fail(t, MEMTRACK_ERR_RUNTIME, -errno, "cannot fork: %s",
				   strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(go[1]);
		close(status[0]);
		child_main(path, argv, envp ? envp : environ, &id, opts.stdout_fd, go[0],
			   status[1]);
	}
	close(go[0]);
	close(status[1]);
	go[0] = status[1] = -1;

	err = tracker_track_pid(t, pid);
	if (!err && !t->system_probes) {
		/* its own probes, and the warden's hold on its children, before it execs */
		pthread_mutex_lock(&t->probe_lock);
		err = procs_hold_start(t) ?: procs_add(t, pid, true, &t->err);
		pthread_mutex_unlock(&t->probe_lock);
	}
	if (err) {
		close(go[1]); /* the child reads EOF and exits */
		go[1] = -1;
		waitpid(pid, NULL, 0);
		goto out;
	}
	write_all(go[1], "g", 1);
	close(go[1]);
	go[1] = -1;
	child_errno = read_exec_status(status[0]);
	if (child_errno) {
		waitpid(pid, NULL, 0);
		tracker_untrack_pid(t, pid);
		err = tracker_fail(t,
				   child_errno == ENOENT ? MEMTRACK_ERR_NOT_FOUND
							 : MEMTRACK_ERR_NOT_EXEC,
				   -child_errno, "cannot execute %s: %s", path,
				   strerror(child_errno));
		goto out;
	}
	/* it exec'd: once the warden lets it run its image, probes in, it has started */
	if (!t->system_probes)
		procs_wait_exec(t, pid, SPAWN_EXEC_WAIT_MS);
	tracker_log(t, MEMTRACK_LOG_INFO, "started %s as process %d", path, (int)pid);
	*pid_out = pid;
out:
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (status[i] >= 0)
			close(status[i]);
	}
	free(id.groups);
	free_envp(envp);
	return err;
}
