/* net.c - loopback TCP helpers for the C tests (see net.h). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A TCP socket bound to 127.0.0.1 at a port the kernel picks; 0 or -1 (errno kept). */
static int bind_loopback(int *fd_out, unsigned short *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = -1;

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0
        || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        goto out;
    *fd_out = fd;
    *port = ntohs(sa.sin_port);
    rc = 0;
out:
    if (rc != 0) {
        int saved = errno;

        close(fd);
        errno = saved;
    }
    return rc;
}

int net_listen_loopback(int backlog, int *fd, unsigned short *port)
{
    int s;
    unsigned short p;

    if (bind_loopback(&s, &p) != 0)
        return -1;
    if (listen(s, backlog) < 0) {
        int saved = errno;

        close(s);
        errno = saved;
        return -1;
    }
    *fd = s;
    *port = p;
    return 0;
}

int net_closed_port(unsigned short *port)
{
    int s;

    if (bind_loopback(&s, port) != 0)
        return -1;
    close(s);
    return 0;
}
