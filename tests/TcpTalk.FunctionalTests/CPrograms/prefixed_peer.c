/* A peer for the binary length-prefixed framings, written as a device or game client would: reads the framed
 * greeting, sends each argument as one frame (2- or 4-byte big-endian length, then the bytes), half-closes, then
 * prints every frame the server still sends (acks, an error line) until it closes.
 * usage: prefixed_peer HOST PORT 2|4 [MESSAGE...]   (a MESSAGE of "@N" sends N bytes of 'x' instead)
 * stdout: one line per frame received; exit 0, or 1 with the reason on stderr. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int read_exact(int s, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(s, buf + got, n - got, 0);
        if (r <= 0) {
            return got == 0 && r == 0 ? 0 : -1; /* 0: clean close before a frame; -1: cut short or error */
        }
        got += (size_t)r;
    }
    return 1;
}

/* Reads one frame into a malloc'd buffer; returns its length, -2 at a clean close, -1 on error. */
static long read_frame(int s, int width, unsigned char **out)
{
    unsigned char head[4];
    int r = read_exact(s, head, (size_t)width);
    if (r <= 0) {
        return r == 0 ? -2 : -1;
    }
    unsigned long len = width == 2 ? ((unsigned long)head[0] << 8 | head[1])
        : ((unsigned long)head[0] << 24 | (unsigned long)head[1] << 16 | (unsigned long)head[2] << 8 | head[3]);
    if (len > 1u << 20) {
        fprintf(stderr, "frame of %lu bytes is too long\n", len);
        return -1;
    }
    *out = malloc(len + 1);
    if (len > 0 && read_exact(s, *out, len) != 1) {
        fprintf(stderr, "frame of %lu bytes cut short\n", len);
        return -1;
    }
    (*out)[len] = 0;
    return (long)len;
}

static int send_frame(int s, int width, const unsigned char *msg, size_t len)
{
    unsigned char head[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len };
    const unsigned char *h = width == 2 ? head + 2 : head;
    return send(s, h, (size_t)width, MSG_NOSIGNAL) == width && (len == 0 || send(s, msg, len, MSG_NOSIGNAL) == (ssize_t)len) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[3], "2") != 0 && strcmp(argv[3], "4") != 0)) {
        fprintf(stderr, "usage: %s HOST PORT 2|4 [MESSAGE...]\n", argv[0]);
        return 1;
    }
    int width = atoi(argv[3]);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", argv[1]);
        return 1;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("connect");
        return 1;
    }

    unsigned char *frame = NULL;
    long len = read_frame(s, width, &frame);
    if (len < 0) {
        fprintf(stderr, "no greeting\n");
        return 1;
    }
    printf("%s\n", (char *)frame);
    free(frame);

    for (int i = 4; i < argc; i++) {
        size_t n = strlen(argv[i]);
        unsigned char *msg = (unsigned char *)argv[i];
        unsigned char *filled = NULL;
        if (argv[i][0] == '@') {
            n = (size_t)atol(argv[i] + 1);
            filled = malloc(n + 1);
            memset(filled, 'x', n);
            msg = filled;
        }
        int failed = send_frame(s, width, msg, n);
        free(filled);
        if (failed) {
            perror("send");
            return 1;
        }
    }
    shutdown(s, SHUT_WR);

    while ((len = read_frame(s, width, &frame)) >= 0) {
        printf("%s\n", (char *)frame);
        free(frame);
    }
    close(s);
    fflush(stdout);
    return len == -2 ? 0 : 1;
}
