/*
 * tsv.h: walking the rows of a test table read into memory (the .tsv
 * tables under tests/data and the line-based case files): comments (#)
 * and empty lines are skipped, fields are split at tabs in place.
 */
#ifndef KT_TEST_TSV_H
#define KT_TEST_TSV_H

#include <string.h>

/* The next row at *cur (NUL-terminated in place), NULL at the end;
 * *lineno counts every line, for messages. */
static inline char *tsv_next(char **cur, int *lineno)
{
    while (*cur && **cur) {
        char *line = *cur;
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            *cur = nl + 1;
        } else {
            *cur = line + strlen(line);
        }
        (*lineno)++;
        if (line[0] != '#' && line[0] != '\0')
            return line;
    }
    return NULL;
}

/* Splits row at tabs into at most n fields; returns how many. */
static inline int tsv_fields(char *row, char **f, int n)
{
    int k = 0;
    while (k < n) {
        f[k++] = row;
        char *tab = strchr(row, '\t');
        if (!tab)
            break;
        *tab = '\0';
        row = tab + 1;
    }
    return k;
}

#endif
