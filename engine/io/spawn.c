/* Child processes through posix_spawn; see spawn.h. */
#include "io/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

extern char **environ;

/* environ with the entries of env_set replacing those of the same name. */
static char **merged_env(const char *const *env_set) {
  size_t n = 0, m = 0;
  while (environ[n]) n++;
  while (env_set && env_set[m]) m++;
  char **env = malloc((n + m + 1) * sizeof *env);
  if (!env) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *eq = strchr(environ[i], '=');
    size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
    int replaced = 0;
    for (size_t j = 0; j < m && !replaced; j++)
      replaced = !strncmp(env_set[j], environ[i], klen) && env_set[j][klen] == '=';
    if (!replaced) env[k++] = environ[i];
  }
  for (size_t j = 0; j < m; j++) env[k++] = (char *)env_set[j];
  env[k] = NULL;
  return env;
}

int st_spawn(const char *const *argv, const char *const *env_set, const char *out_path, const char *err_path,
             pid_t *pid) {
  if (!argv || !argv[0]) return st_error("spawn: no program given");
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0) return st_error("spawn '%s': out of memory", argv[0]);
  int rc = 0;
  if (out_path && posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0)
    rc = st_error("spawn '%s': out of memory", argv[0]);
  if (rc == 0 && err_path && posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0)
    rc = st_error("spawn '%s': out of memory", argv[0]);
  if (rc == 0 && out_path && !err_path && posix_spawn_file_actions_adddup2(&fa, 1, 2) != 0)
    rc = st_error("spawn '%s': out of memory", argv[0]);
  char **env = rc == 0 ? merged_env(env_set) : NULL;
  if (rc == 0 && !env) rc = st_error("spawn '%s': out of memory", argv[0]);
  if (rc == 0) {
    int e = posix_spawn(pid, argv[0], &fa, NULL, (char *const *)argv, env);
    if (e != 0) rc = st_error("cannot start '%s': %s", argv[0], strerror(e));
  }
  free(env);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

int st_wait(pid_t pid, pid_t *got, int *code) {
  int status;
  pid_t r;
  while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
  if (r < 0) return st_error("waiting for process %ld: %s", (long)pid, strerror(errno));
  *got = r;
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  return 0;
}

int st_find_program(const char *name, char *buf, size_t size) {
  if (!name || !*name) return 1;
  if (strchr(name, '/')) {
    if (access(name, X_OK) != 0 || strlen(name) >= size) return 1;
    strcpy(buf, name);
    return 0;
  }
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    size_t len = strcspn(path, ":");
    struct stat st;
    /* an empty entry means the current folder, as in execvp */
    int n = len ? snprintf(buf, size, "%.*s/%s", (int)len, path, name) : snprintf(buf, size, "./%s", name);
    if (n > 0 && (size_t)n < size && stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return 0;
    path += len;
    if (*path == ':') path++;
  }
  return 1;
}

int st_self_exe(char *buf, size_t size) {
  ssize_t n = readlink("/proc/self/exe", buf, size - 1);
  if (n < 0) return st_error("cannot find this program's path (/proc/self/exe): %s", strerror(errno));
  if ((size_t)n >= size - 1) return st_error("this program's path is too long");
  buf[n] = '\0';
  return 0;
}
