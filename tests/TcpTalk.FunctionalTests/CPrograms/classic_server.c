/*
 * classic_server.c - POSIX port of the classic Winsock tutorial server, kept as literal as possible:
 * bind INADDR_ANY, listen with backlog 5, and for each client: sprintf the greeting "Welcom %s!" with
 * inet_ntoa (the tutorial's spelling), send it with strlen+1 (the NUL is the frame), one recv of 128 bytes,
 * printf it, close, loop.
 *
 * Porting notes: Winsock's WSAStartup/closesocket become nothing/close; stdout is unbuffered so a test sees
 * each line at once; an optional second argument stops the server after that many clients.
 * Usage: classic_server PORT [CLIENTS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 5150;
    int clients = argc > 2 ? atoi(argv[2]) : -1;
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);

    int listen_sock = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int one = 1;
    setsockopt(listen_sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in local;
    memset(&local, 0, sizeof local);
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_ANY);
    local.sin_port = htons((unsigned short)port);
    if (bind(listen_sock, (struct sockaddr *)&local, sizeof local) < 0) {
        perror("bind");
        return 1;
    }
    if (listen(listen_sock, 5) < 0) {
        perror("listen");
        return 1;
    }
    fprintf(stderr, "listening on %d\n", port);

    while (clients != 0) {
        struct sockaddr_in from;
        socklen_t fromlen = sizeof from;
        char buf[129];
        int client = accept(listen_sock, (struct sockaddr *)&from, &fromlen);
        if (client < 0)
            continue;
        sprintf(buf, "Welcom %s!", inet_ntoa(from.sin_addr));
        send(client, buf, strlen(buf) + 1, 0);
        int n = recv(client, buf, 128, 0);
        if (n > 0) {
            buf[n] = '\0';
            printf("%s\n", buf);
        }
        close(client);
        if (clients > 0)
            clients--;
    }
    close(listen_sock);
    return 0;
}
