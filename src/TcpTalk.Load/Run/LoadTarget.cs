using System.Net;
using System.Net.Security;

namespace TcpTalk.Load;

/// <summary>
/// Where every load connection goes, as the probe connection found it: the address it reached, and (over TLS) the
/// handshake options that accept exactly the certificate it checked.
/// </summary>
internal sealed record LoadTarget(EndPoint Address, SslClientAuthenticationOptions? Tls);
