/*
 * A native upstream for the proxy bench: a state server that answers the
 * bench data set from pre-encoded frames, so that it costs far less CPU per
 * request than the proxies in front of it (run_proxy_bench.ts --server native).
 *
 *   upstream --table FILE [--host 127.0.0.1] [--port 0]
 *
 * The table file (written by write_table.ts) maps kvStateId + serialized key
 * and namespace to the complete answer frame (request id zero); this program
 * patches the request id in. A known id with an absent key gets the
 * UnknownKeyOrNamespace failure frame of the table, an unknown id the
 * unknown-id failure frame: the bytes fast_state_server.ts sends.
 *
 * One thread, epoll (level-triggered), non-blocking sockets, TCP_NODELAY. Per
 * connection: one input buffer (64 KiB, grown up to one maximal frame) and
 * one output buffer of OUT_CAP bytes; frames are parsed only while the next
 * answer fits, else reading stops until the peer drains the output
 * (EPOLLOUT). One write per read batch. It prints `listening on HOST:PORT`
 * once ready and exits 0 on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FRAME (1u << 20)   /* the largest frame body accepted, as fast_state_server.ts */
#define IN_INITIAL (64u * 1024)
#define OUT_CAP (1u << 20)     /* bound of each connection's pending output */
#define MAX_EVENTS 256

struct entry {
  const uint8_t *key; /* kvStateId (16) + key&ns */
  uint32_t key_len;
  const uint8_t *frame; /* the answer, request id zero at bytes 12..19 */
  uint32_t frame_len;
};

struct conn {
  int fd;
  uint8_t *in;
  uint32_t in_len, in_cap;
  uint8_t *out;
  uint32_t out_off, out_len; /* pending bytes are out[out_off .. out_len) */
  uint32_t events;           /* the epoll interest registered */
};

static struct entry *table;
static uint64_t table_mask;
static const uint8_t *known_ids;
static uint32_t n_ids;
static const uint8_t *missing_frame, *unknown_id_frame;
static uint32_t missing_len, unknown_id_len;
static uint32_t max_answer;
static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static uint64_t hash_bytes(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a, 64 bit */
  for (uint32_t i = 0; i < an; i++) h = (h ^ a[i]) * 1099511628211ull;
  for (uint32_t i = 0; i < bn; i++) h = (h ^ b[i]) * 1099511628211ull;
  return h ^ (h >> 29);
}

/* A bounds-checked reader of the table file. */
struct cursor {
  const uint8_t *p, *end;
};

static uint32_t take_u32(struct cursor *c) {
  if (c->end - c->p < 4) {
    fprintf(stderr, "table file truncated\n");
    exit(2);
  }
  uint32_t x = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
               (uint32_t)c->p[3] << 24;
  c->p += 4;
  return x;
}

static const uint8_t *take(struct cursor *c, uint32_t n) {
  if ((uint64_t)(c->end - c->p) < n) {
    fprintf(stderr, "table file truncated\n");
    exit(2);
  }
  const uint8_t *r = c->p;
  c->p += n;
  return r;
}

static void note_answer(uint32_t len) {
  if (len < 20) {
    fprintf(stderr, "table file: answer frame of %u bytes\n", len);
    exit(2);
  }
  if (len > max_answer) max_answer = len;
}

static void load_table(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die(path);
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat");
  uint8_t *data = malloc((size_t)st.st_size + 1);
  if (data == NULL) die("malloc");
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
    if (n <= 0) die("read table");
    got += (size_t)n;
  }
  close(fd);
  struct cursor c = {data, data + got};
  if (memcmp(take(&c, 4), "QSUT", 4) != 0 || take_u32(&c) != 1) {
    fprintf(stderr, "%s: not a version 1 table file\n", path);
    exit(2);
  }
  n_ids = take_u32(&c);
  if (n_ids > UINT32_MAX / 16) {
    fprintf(stderr, "table file: %u state ids\n", n_ids);
    exit(2);
  }
  known_ids = take(&c, n_ids * 16u);
  missing_len = take_u32(&c);
  missing_frame = take(&c, missing_len);
  note_answer(missing_len);
  unknown_id_len = take_u32(&c);
  unknown_id_frame = take(&c, unknown_id_len);
  note_answer(unknown_id_len);
  uint32_t n = take_u32(&c);
  uint64_t cap = 16;
  while (cap < 2ull * n) cap <<= 1;
  table = calloc(cap, sizeof *table);
  if (table == NULL) die("calloc");
  table_mask = cap - 1;
  for (uint32_t i = 0; i < n; i++) {
    struct entry e;
    e.key_len = take_u32(&c);
    e.key = take(&c, e.key_len);
    e.frame_len = take_u32(&c);
    e.frame = take(&c, e.frame_len);
    if (e.key_len < 16) {
      fprintf(stderr, "table file: key of %u bytes\n", e.key_len);
      exit(2);
    }
    note_answer(e.frame_len);
    uint64_t s = hash_bytes(e.key, 16, e.key + 16, e.key_len - 16) & table_mask;
    while (table[s].key != NULL) s = (s + 1) & table_mask;
    table[s] = e;
  }
  if (c.p != c.end) {
    fprintf(stderr, "table file: %ld trailing bytes\n", (long)(c.end - c.p));
    exit(2);
  }
  if (max_answer > OUT_CAP) {
    fprintf(stderr, "table file: an answer of %u bytes exceeds the output bound\n", max_answer);
    exit(2);
  }
}

static const struct entry *lookup(const uint8_t *id, const uint8_t *kn, uint32_t kn_len) {
  uint64_t s = hash_bytes(id, 16, kn, kn_len) & table_mask;
  for (;;) {
    const struct entry *e = &table[s];
    if (e->key == NULL) return NULL;
    if (e->key_len == 16 + kn_len && memcmp(e->key, id, 16) == 0 &&
        memcmp(e->key + 16, kn, kn_len) == 0)
      return e;
    s = (s + 1) & table_mask;
  }
}

static int is_known_id(const uint8_t *id) {
  for (uint32_t i = 0; i < n_ids; i++)
    if (memcmp(known_ids + 16u * i, id, 16) == 0) return 1;
  return 0;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void close_conn(int ep, struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
}

/*
 * Answers the complete frames of the input while the next answer fits the
 * output. Returns 0, or -1 on a frame length out of bounds (the connection
 * is then closed, as fast_state_server.ts does).
 */
static int parse(struct conn *c) {
  uint32_t p = 0;
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  while (c->in_len - p >= 4) {
    int32_t len = (int32_t)be32(c->in + p);
    if (len < 0 || (uint32_t)len > MAX_FRAME) return -1;
    uint32_t fend = p + 4 + (uint32_t)len;
    if (fend > c->in_len) break;
    /* Room for the largest answer, compacting the pending output first. */
    if (OUT_CAP - c->out_len < max_answer) {
      if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
      }
      if (OUT_CAP - c->out_len < max_answer) break; /* wait for EPOLLOUT */
    }
    /* [len][version][type][id 8][kvStateId 16][knLen][kn] */
    const uint8_t *ans = missing_frame;
    uint32_t ans_len = missing_len;
    if (len >= 36) {
      int32_t kn_len = (int32_t)be32(c->in + p + 36);
      if (kn_len >= 0 && (uint64_t)p + 40 + (uint32_t)kn_len <= fend) {
        const struct entry *e = lookup(c->in + p + 20, c->in + p + 40, (uint32_t)kn_len);
        if (e != NULL) {
          ans = e->frame;
          ans_len = e->frame_len;
        } else if (!is_known_id(c->in + p + 20)) {
          ans = unknown_id_frame;
          ans_len = unknown_id_len;
        }
      }
    }
    uint8_t *w = c->out + c->out_len;
    memcpy(w, ans, ans_len);
    /* The request id; a frame too short to hold one gets the bytes it has, zeros after. */
    for (uint32_t i = 0; i < 8; i++) w[12 + i] = p + 12 + i < fend ? c->in[p + 12 + i] : 0;
    c->out_len += ans_len;
    p = fend;
  }
  if (p > 0) {
    memmove(c->in, c->in + p, c->in_len - p);
    c->in_len -= p;
  }
  return 0;
}

/* Writes the pending output once. Returns -1 when the peer is gone. */
static int flush_out(struct conn *c) {
  if (c->out_off == c->out_len) return 0;
  ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  c->out_off += (uint32_t)n;
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  return 0;
}

/* Whether the input waits for output room (a complete frame is left unanswered). */
static int input_stalled(const struct conn *c) {
  if (c->in_len < 4) return 0;
  int32_t len = (int32_t)be32(c->in);
  return len >= 0 && 4 + (uint32_t)len <= c->in_len;
}

static int set_interest(int ep, struct conn *c) {
  uint32_t want = 0;
  if (!input_stalled(c)) want |= EPOLLIN;
  if (c->out_off != c->out_len) want |= EPOLLOUT;
  if (want == c->events) return 0;
  struct epoll_event ev = {.events = want, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) return -1;
  c->events = want;
  return 0;
}

/* Serves one readiness event. Returns -1 when the connection is to be closed. */
static int serve(int ep, struct conn *c, uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) return -1;
  if (events & EPOLLOUT) {
    if (flush_out(c) != 0) return -1;
    if (parse(c) != 0) return -1; /* frames left waiting for room */
  }
  if (events & EPOLLIN && !input_stalled(c)) {
    if (c->in_cap - c->in_len < 4096 || (c->in_len >= 4 && 4 + be32(c->in) > c->in_cap)) {
      uint32_t need = c->in_cap * 2;
      if (c->in_len >= 4 && 4 + be32(c->in) > need) need = 4 + be32(c->in);
      if (need > 4 + MAX_FRAME + IN_INITIAL) need = 4 + MAX_FRAME + IN_INITIAL;
      if (need > c->in_cap) {
        uint8_t *b = realloc(c->in, need);
        if (b == NULL) return -1;
        c->in = b;
        c->in_cap = need;
      }
    }
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n == 0) return -1;
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
    } else {
      c->in_len += (uint32_t)n;
      if (parse(c) != 0) return -1;
    }
  }
  if (flush_out(c) != 0) return -1; /* one write per read batch */
  return set_interest(ep, c);
}

static void accept_all(int ep, int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or out of descriptors: try again on the next event */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    if (c != NULL) {
      c->fd = fd;
      c->in = malloc(IN_INITIAL);
      c->in_cap = IN_INITIAL;
      c->out = malloc(OUT_CAP);
    }
    if (c == NULL || c->in == NULL || c->out == NULL) {
      if (c != NULL) {
        free(c->in);
        free(c->out);
        free(c);
      }
      close(fd);
      continue;
    }
    c->events = EPOLLIN;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      free(c->in);
      free(c->out);
      free(c);
      close(fd);
    }
  }
}

int main(int argc, char **argv) {
  const char *table_path = NULL, *host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (i + 1 < argc && strcmp(argv[i], "--table") == 0) table_path = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--host") == 0) host = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--port") == 0) port = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s --table FILE [--host 127.0.0.1] [--port 0]\n", argv[0]);
      return 2;
    }
  }
  if (table_path == NULL) {
    fprintf(stderr, "--table FILE is required\n");
    return 2;
  }
  load_table(table_path);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "--host: an IPv4 address is expected, got %s\n", host);
    return 2;
  }
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
  if (listen(lfd, 4096) != 0) die("listen");
  socklen_t alen = sizeof addr;
  if (getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) die("getsockname");
  char shown[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, shown, sizeof shown);
  printf("listening on %s:%u\n", shown, (unsigned)ntohs(addr.sin_port));
  fflush(stdout);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0) die("epoll_ctl");
  struct epoll_event evs[MAX_EVENTS];
  while (!stopping) {
    int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c == NULL) accept_all(ep, lfd);
      else if (serve(ep, c, evs[i].events) != 0) close_conn(ep, c);
    }
  }
  close(lfd);
  return 0;
}
