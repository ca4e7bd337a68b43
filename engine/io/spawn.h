/* Child processes without a shell: posix_spawn with an argument vector, so
 * no path or name is ever parsed by /bin/sh; waiting; this process's own
 * executable. Functions return 0 or -1 with an st_error(). */
#ifndef STRATA_IO_SPAWN_H
#define STRATA_IO_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* Starts argv[0] (a path; no PATH search) with argv, this process's
 * environment plus the "KEY=VALUE" entries of env_set (replacing variables
 * of the same name; may be NULL), and stdout sent to out_path (created or
 * truncated) when it is not NULL. stderr goes to err_path when that is not
 * NULL, else with stdout (so a caller can read a program's answer apart from
 * its complaints). */
int st_spawn(const char *const *argv, const char *const *env_set, const char *out_path, const char *err_path,
             pid_t *pid);

/* The first executable file `name` in the folders of $PATH, written to buf;
 * a name with a '/' is taken as it is. Returns 0, or 1 when there is none
 * (no error is set: the caller says what the program was for). */
int st_find_program(const char *name, char *buf, size_t size);

/* Waits for child `pid` (-1: any child). *got is the child that ended and
 * *code its exit status, or 128 + the signal that killed it. */
int st_wait(pid_t pid, pid_t *got, int *code);

/* The path of the running executable (/proc/self/exe). */
int st_self_exe(char *buf, size_t size);

#endif
