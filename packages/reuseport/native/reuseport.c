// Creates a bound socket with SO_REUSEPORT and returns its file descriptor, which
// Node then wraps (dgram bind({fd}) / net listen({fd})). Linux hashes each flow's
// 4-tuple to one of the sockets sharing the port, so every thread keeps its own clients.
#include <node_api.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, "SB_ERR_REUSEPORT", msg);
  return NULL;
}

// open(type: 'udp'|'tcp', address: string, port: number, backlog: number) -> fd
static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) { napi_throw_type_error(env, NULL, "open(type, address, port[, backlog])"); return NULL; }
  char type[8] = {0}, addr[64] = {0};
  size_t len;
  int32_t port = 0, backlog = 511;
  if (napi_get_value_string_utf8(env, argv[0], type, sizeof type, &len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], addr, sizeof addr, &len) != napi_ok ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok) {
    napi_throw_type_error(env, NULL, "open(type: string, address: string, port: number)");
    return NULL;
  }
  if (argc > 3) napi_get_value_int32(env, argv[3], &backlog);
  int tcp = strcmp(type, "tcp") == 0;
  struct sockaddr_storage ss;
  socklen_t sslen;
  memset(&ss, 0, sizeof ss);
  int family;
  struct sockaddr_in* v4 = (struct sockaddr_in*)&ss;
  struct sockaddr_in6* v6 = (struct sockaddr_in6*)&ss;
  if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
    family = AF_INET; v4->sin_family = AF_INET; v4->sin_port = htons(port); sslen = sizeof *v4;
  } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
    family = AF_INET6; v6->sin6_family = AF_INET6; v6->sin6_port = htons(port); sslen = sizeof *v6;
  } else {
    napi_throw_error(env, "SB_ERR_REUSEPORT", "not an IP address");
    return NULL;
  }
  int fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
    int e = errno; close(fd); return throw_errno(env, "setsockopt", e);
  }
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (struct sockaddr*)&ss, sslen) < 0) { int e = errno; close(fd); return throw_errno(env, "bind", e); }
  if (tcp && listen(fd, backlog) < 0) { int e = errno; close(fd); return throw_errno(env, "listen", e); }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

// setBuffers(fd, rcvbuf, sndbuf): larger kernel buffers absorb bursts on the relay path.
static napi_value set_buffers(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1, rcv = 0, snd = 0;
  napi_get_value_int32(env, argv[0], &fd);
  napi_get_value_int32(env, argv[1], &rcv);
  napi_get_value_int32(env, argv[2], &snd);
  if (rcv > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (snd > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL},
    {"setBuffers", NULL, set_buffers, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
