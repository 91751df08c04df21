/*
 * The plain main() every fuzz target links when the build has no libFuzzer
 * (any compiler; ctest runs it on every CI run, plain and under ASan/UBSan):
 * it runs the target's LLVMFuzzerTestOneInput once on every file named on
 * the command line or found in a directory named there (one level, sorted,
 * so a failure is reproducible). Each input is copied into a buffer of
 * exactly its size, so a read past its end is caught by ASan as it would be
 * by libFuzzer. Finding no input at all fails: a corpus that went missing
 * must not pass as a clean run.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay__file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        fclose(f);
        fprintf(stderr, "replay: cannot stat %s\n", path);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *data = malloc(n ? n : 1);
    if (data == NULL || fread(data, 1, n, f) != n) {
        free(data);
        fclose(f);
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    fclose(f);
    /* An empty input is passed as a zero-size allocation's worth: no bytes. */
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    return 0;
}

static int replay__by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    size_t runs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (replay__file(argv[i]) != 0)
                return 1;
            runs++;
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, NULL, replay__by_name);
        if (n < 0) {
            fprintf(stderr, "replay: cannot list %s\n", argv[i]);
            return 1;
        }
        int rc = 0;
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
            struct stat fst;
            if (rc == 0 && names[k]->d_name[0] != '.' && stat(path, &fst) == 0 &&
                S_ISREG(fst.st_mode)) {
                if (replay__file(path) != 0)
                    rc = 1;
                else
                    runs++;
            }
            free(names[k]);
        }
        free(names);
        if (rc != 0)
            return 1;
    }
    if (runs == 0) {
        fprintf(stderr, "replay: no input found in %s\n", argc > 1 ? argv[1] : "(no argument)");
        return 1;
    }
    printf("replay: %zu inputs ran clean\n", runs);
    return 0;
}
