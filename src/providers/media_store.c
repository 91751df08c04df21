#include "providers/media_store.h"

#include "base/alloc.h"
#include "base/uuid.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the interface -------------------------------------------------------- */

bool media_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0' || name[0] == '.')
        return false;
    size_t n = 0;
    for (const char *c = name; *c; c++, n++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
        if (!ok || n >= MEDIA_NAME_MAX)
            return false;
    }
    return true;
}

int media_store_put(media_store *ms, const char *user_id, const char *project_id, const char *name,
                    const void *data, size_t len, error *err)
{
    return ms->vt->put(ms, user_id, project_id, name, data, len, err);
}

int media_store_temp(media_store *ms, const char *user_id, const char *project_id, const char *name,
                     media_temp *out, error *err)
{
    return ms->vt->temp(ms, user_id, project_id, name, out, err);
}

int media_store_commit(media_store *ms, media_temp *t, error *err)
{
    return ms->vt->commit(ms, t, err);
}

void media_store_discard(media_store *ms, media_temp *t)
{
    ms->vt->discard(ms, t);
}

int media_store_open(media_store *ms, const char *user_id, const char *project_id, const char *name,
                     media_file *out, error *err)
{
    return ms->vt->open(ms, user_id, project_id, name, out, err);
}

int media_store_remove(media_store *ms, const char *user_id, const char *project_id,
                       const char *name, error *err)
{
    return ms->vt->remove(ms, user_id, project_id, name, err);
}

int media_store_remove_project(media_store *ms, const char *user_id, const char *project_id,
                               error *err)
{
    return ms->vt->remove_project(ms, user_id, project_id, err);
}

int media_store_list(media_store *ms, const char *user_id, const char *project_id,
                     void (*fn)(const char *name, void *ctx), void *ctx, error *err)
{
    return ms->vt->list(ms, user_id, project_id, fn, ctx, err);
}

int media_store_list_projects(media_store *ms,
                              void (*fn)(const char *user_id, const char *project_id, void *ctx),
                              void *ctx, error *err)
{
    return ms->vt->list_projects(ms, fn, ctx, err);
}

int media_store_presign(media_store *ms, const char *user_id, const char *project_id,
                        const char *name, const char *content_type, char *url, size_t n, error *err)
{
    if (ms->vt->presign == NULL)
        return 0;
    return ms->vt->presign(ms, user_id, project_id, name, content_type, url, n, err);
}

void media_store_free(media_store *ms)
{
    if (ms != NULL)
        ms->vt->free(ms);
}

/* ---- the local directory --------------------------------------------------- */

typedef struct local_store {
    media_store base;
    char root[3072];
    int root_fd; /* the root itself may be a link (a mounted volume); nothing below it is */
} local_store;

/* An I/O failure as an error: a full disk (or a file past the size limit)
 * is ERR_NO_SPACE, anything else ERR_UNAVAILABLE. */
static int local__io(error *err, const char *what, const char *name)
{
    return error_set_io(err, errno, "media storage: %s %s failed", what, name ? name : "");
}

int media_store_check(const char *user_id, const char *project_id, const char *name, error *err)
{
    if (user_id == NULL || !uuid_is_valid(user_id) || project_id == NULL ||
        !uuid_is_valid(project_id))
        return error_set(err, ERR_INVALID, "path", "media belong to a user and a project id");
    if (name != NULL && !media_name_valid(name))
        return error_set(err, ERR_INVALID, "path",
                         "a media name is 1-%d characters of letters, digits, '.', '_' and '-', "
                         "not starting with '.' and with no '/'",
                         MEDIA_NAME_MAX);
    return 0;
}

/* Opens (creating when create) one directory below dirfd, never through a link. */
static int local__subdir(int dirfd, const char *name, bool create, error *err)
{
    if (create && mkdirat(dirfd, name, 0750) != 0 && errno != EEXIST)
        return local__io(err, "creating directory", name);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            return error_set(err, ERR_NOT_FOUND, "path", "no such media");
        return local__io(err, "opening directory", name);
    }
    return fd;
}

/* The project's directory as a descriptor (the caller closes it). */
static int local__project_dir(local_store *ls, const char *user_id, const char *project_id,
                              bool create, error *err)
{
    int ufd = local__subdir(ls->root_fd, user_id, create, err);
    if (ufd < 0)
        return -1;
    int pfd = local__subdir(ufd, project_id, create, err);
    close(ufd);
    return pfd;
}

static void local__temp_name(const char *name, char *out, size_t n)
{
    char rnd[UUID_STR_LEN + 1];
    uuid_v7(rnd);
    /* The final extension stays last, so a program that picks its output
     * format from the file name (ffmpeg) sees the right one. */
    const char *dot = strrchr(name, '.');
    snprintf(out, n, ".tmp-%s-%.*s%s", rnd + 24, (int)(dot ? dot - name : (ptrdiff_t)strlen(name)),
             name, dot ? dot : "");
}

static int local__temp(media_store *ms, const char *user_id, const char *project_id,
                       const char *name, media_temp *out, error *err)
{
    local_store *ls = (local_store *)ms;
    memset(out, 0, sizeof(*out));
    if (media_store_check(user_id, project_id, name, err) != 0)
        return -1;
    int dfd = local__project_dir(ls, user_id, project_id, true, err);
    if (dfd < 0)
        return -1;
    char tmp[MEDIA_NAME_MAX + 64];
    local__temp_name(name, tmp, sizeof(tmp));
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    int saved = errno;
    close(dfd);
    if (fd < 0) {
        errno = saved;
        return local__io(err, "creating", tmp);
    }
    close(fd);
    snprintf(out->dir, sizeof(out->dir), "%s/%s/%s", ls->root, user_id, project_id);
    snprintf(out->path, sizeof(out->path), "%s/%s", out->dir, tmp);
    snprintf(out->name, sizeof(out->name), "%s", name);
    return 0;
}

void media_store_unlink_temp(media_store *ms, media_temp *t)
{
    (void)ms;
    if (t->path[0])
        unlink(t->path);
    t->path[0] = '\0';
}

static int local__commit(media_store *ms, media_temp *t, error *err)
{
    (void)ms;
    int fd = open(t->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        local__io(err, "syncing", t->name);
        if (fd >= 0)
            close(fd);
        media_store_unlink_temp(ms, t);
        return -1;
    }
    close(fd);
    char final[sizeof(t->dir) + MEDIA_NAME_MAX + 2];
    snprintf(final, sizeof(final), "%s/%s", t->dir, t->name);
    if (rename(t->path, final) != 0) {
        local__io(err, "renaming into place", t->name);
        media_store_unlink_temp(ms, t);
        return -1;
    }
    t->path[0] = '\0';
    /* The rename itself is durable only once the directory is synced. */
    int dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        if (dfd >= 0)
            close(dfd);
        return local__io(err, "syncing the directory of", t->name);
    }
    close(dfd);
    return 0;
}

static int local__put(media_store *ms, const char *user_id, const char *project_id,
                      const char *name, const void *data, size_t len, error *err)
{
    media_temp t;
    if (local__temp(ms, user_id, project_id, name, &t, err) != 0)
        return -1;
    int fd = open(t.path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        local__io(err, "opening", name);
        media_store_unlink_temp(ms, &t);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            local__io(err, "writing", name);
            close(fd);
            media_store_unlink_temp(ms, &t);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    close(fd);
    return local__commit(ms, &t, err);
}

static int local__open(media_store *ms, const char *user_id, const char *project_id,
                       const char *name, media_file *out, error *err)
{
    local_store *ls = (local_store *)ms;
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    if (media_store_check(user_id, project_id, name, err) != 0)
        return -1;
    int dfd = local__project_dir(ls, user_id, project_id, false, err);
    if (dfd < 0)
        return -1;
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    int saved = errno;
    close(dfd);
    if (fd < 0) {
        if (saved == ENOENT || saved == ELOOP || saved == ENOTDIR)
            return error_set(err, ERR_NOT_FOUND, "path", "no media named %s", name);
        errno = saved;
        return local__io(err, "opening", name);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, ERR_NOT_FOUND, "path", "no media named %s", name);
    }
    out->fd = fd;
    out->size = (int64_t)st.st_size;
    out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    out->identity = (uint64_t)st.st_ino ^ ((uint64_t)st.st_dev << 40);
    return 0;
}

static int local__remove(media_store *ms, const char *user_id, const char *project_id,
                         const char *name, error *err)
{
    local_store *ls = (local_store *)ms;
    if (media_store_check(user_id, project_id, name, err) != 0)
        return -1;
    int dfd = local__project_dir(ls, user_id, project_id, false, err);
    if (dfd < 0)
        return err->kind == ERR_NOT_FOUND ? 0 : -1;
    int rc = unlinkat(dfd, name, 0);
    int saved = errno;
    close(dfd);
    if (rc != 0 && saved != ENOENT) {
        errno = saved;
        return local__io(err, "deleting", name);
    }
    return 0;
}

/* Empties the directory dfd (closed here), depth-limited: the layout is flat. */
static int local__empty(int dfd, int depth, error *err)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return local__io(err, "listing", "a project directory");
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if ((errno == EISDIR || errno == EPERM) && depth < 4) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0 && local__empty(sub, depth + 1, err) == 0 &&
                unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == 0)
                continue;
        }
        rc = local__io(err, "deleting", de->d_name);
        break;
    }
    closedir(d);
    return rc;
}

static int local__remove_project(media_store *ms, const char *user_id, const char *project_id,
                                 error *err)
{
    local_store *ls = (local_store *)ms;
    if (media_store_check(user_id, project_id, NULL, err) != 0)
        return -1;
    int ufd = local__subdir(ls->root_fd, user_id, false, err);
    if (ufd < 0)
        return err->kind == ERR_NOT_FOUND ? 0 : -1;
    int pfd = local__subdir(ufd, project_id, false, err);
    if (pfd < 0) {
        close(ufd);
        return err->kind == ERR_NOT_FOUND ? 0 : -1;
    }
    int rc = local__empty(pfd, 0, err);
    if (rc == 0 && unlinkat(ufd, project_id, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = local__io(err, "deleting the directory of project", project_id);
    close(ufd);
    /* The user's directory goes with their last project; another writer
     * may have just put a project in it, which this leaves alone. */
    if (rc == 0)
        unlinkat(ls->root_fd, user_id, AT_REMOVEDIR);
    return rc;
}

static int local__list(media_store *ms, const char *user_id, const char *project_id,
                       void (*fn)(const char *name, void *ctx), void *ctx, error *err)
{
    local_store *ls = (local_store *)ms;
    if (media_store_check(user_id, project_id, NULL, err) != 0)
        return -1;
    int dfd = local__project_dir(ls, user_id, project_id, false, err);
    if (dfd < 0)
        return err->kind == ERR_NOT_FOUND ? 0 : -1;
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return local__io(err, "listing", project_id);
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            fn(de->d_name, ctx);
    closedir(d);
    return 0;
}

static int local__list_projects(media_store *ms,
                                void (*fn)(const char *user_id, const char *project_id, void *ctx),
                                void *ctx, error *err)
{
    local_store *ls = (local_store *)ms;
    int rfd = openat(ls->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *root = rfd >= 0 ? fdopendir(rfd) : NULL;
    if (root == NULL) {
        if (rfd >= 0)
            close(rfd);
        return local__io(err, "listing", ls->root);
    }
    struct dirent *ue;
    while ((ue = readdir(root)) != NULL) {
        if (!uuid_is_valid(ue->d_name))
            continue;
        error ignored;
        int ufd = local__subdir(ls->root_fd, ue->d_name, false, &ignored);
        DIR *ud = ufd >= 0 ? fdopendir(ufd) : NULL;
        if (ud == NULL) {
            if (ufd >= 0)
                close(ufd);
            continue;
        }
        struct dirent *pe;
        while ((pe = readdir(ud)) != NULL)
            if (uuid_is_valid(pe->d_name))
                fn(ue->d_name, pe->d_name, ctx);
        closedir(ud);
    }
    closedir(root);
    return 0;
}

static void local__free(media_store *ms)
{
    local_store *ls = (local_store *)ms;
    close(ls->root_fd);
    free(ls);
}

static const media_store_vt local__vt = {
    .put = local__put,
    .temp = local__temp,
    .commit = local__commit,
    .discard = media_store_unlink_temp,
    .open = local__open,
    .remove = local__remove,
    .remove_project = local__remove_project,
    .list = local__list,
    .list_projects = local__list_projects,
    .free = local__free,
};

media_store *media_store_local(const char *root, error *err)
{
    if (root == NULL || root[0] == '\0' || strlen(root) > 3000) {
        error_set(err, ERR_CONFIG, "PSTUDIO_DATA_DIR", "the media directory needs a path");
        return NULL;
    }
    if (mkdir(root, 0750) != 0 && errno != EEXIST) {
        error_set(err, ERR_CONFIG, "PSTUDIO_DATA_DIR", "cannot create the media directory %s: %s",
                  root, strerror(errno));
        return NULL;
    }
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        error_set(err, ERR_CONFIG, "PSTUDIO_DATA_DIR", "cannot open the media directory %s: %s",
                  root, strerror(errno));
        return NULL;
    }
    local_store *ls = xcalloc(1, sizeof(*ls));
    ls->base.vt = &local__vt;
    ls->root_fd = fd;
    snprintf(ls->root, sizeof(ls->root), "%s", root);
    return &ls->base;
}
