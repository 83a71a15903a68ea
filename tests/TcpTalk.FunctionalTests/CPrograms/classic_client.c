/*
 * classic_client.c - POSIX port of the classic Winsock tutorial client: connect to the server, recv up to
 * 128 bytes and print them (the greeting ends at its NUL), scanf("%s") one word, send it with strlen+1, close.
 *
 * Porting notes: gethostbyname/inet_addr become inet_pton on the given IPv4 address; stdout is unbuffered.
 * Usage: classic_client ADDRESS PORT   (the word is read from stdin)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: classic_client ADDRESS PORT\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in server;
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
        fprintf(stderr, "bad address\n");
        return 2;
    }
    if (connect(s, (struct sockaddr *)&server, sizeof server) < 0) {
        perror("connect");
        return 1;
    }
    char buf[129];
    int n = recv(s, buf, 128, 0);
    if (n <= 0) {
        perror("recv");
        return 1;
    }
    buf[n] = '\0';
    printf("%s\n", buf);
    if (scanf("%128s", buf) != 1)
        buf[0] = '\0';
    send(s, buf, strlen(buf) + 1, 0);
    close(s);
    return 0;
}
