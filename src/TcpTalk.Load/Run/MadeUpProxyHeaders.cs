using System.Net;
using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Load;

/// <summary>
/// PROXY protocol headers for <see cref="BenchOptions.ProxyProtocol"/>: each load connection claims a client of its
/// own, so a server that trusts the load generator's address (<c>serve --trusted-proxy 127.0.0.0/8</c>) serves it
/// as a balancer's clients. Sources are 10.0.0.1, 10.0.0.2, ... (16 million before they repeat), each with a port
/// of its own in 1024-65023; the destination is the server's address (an IPv4 stand-in for an IPv6 server: a header
/// names the client's connection, whose family need not be the balancer's). Thread-safe.
/// </summary>
internal sealed class MadeUpProxyHeaders
{
    private static readonly IPAddress s_ipv6StandIn = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress s_probeSource = IPAddress.Parse("10.255.255.255");
    private readonly int _version;
    private readonly IPEndPoint _destination;
    private long _next;

    public MadeUpProxyHeaders(int version, IPEndPoint server)
    {
        if (version is not (1 or 2))
        {
            throw new ArgumentException($"PROXY protocol version {version} is neither 1 nor 2", nameof(version));
        }

        _version = version;
        _destination = server.AddressFamily == AddressFamily.InterNetwork ? server
            : server.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(server.Address.MapToIPv4(), server.Port)
            : new IPEndPoint(s_ipv6StandIn, server.Port);
    }

    /// <summary>The headers of a run with <paramref name="options"/>, or null when it sends none.</summary>
    public static MadeUpProxyHeaders? For(BenchOptions options, IPEndPoint server) =>
        options.ProxyProtocol == 0 ? null : new MadeUpProxyHeaders(options.ProxyProtocol, server);

    /// <summary>Writes the next connection's header into <paramref name="destination"/> (<see cref="ProxyHeaderWriter.MaxBytes"/> is enough); returns its length.</summary>
    public int WriteNext(Span<byte> destination)
    {
        long n = Interlocked.Increment(ref _next);
        uint host = (uint)(n % 0xFFFFFE) + 1; // 10.0.0.1 to 10.255.255.254
        var source = new IPEndPoint(new IPAddress([10, (byte)(host >> 16), (byte)(host >> 8), (byte)host]), 1024 + (int)(n % 64000));
        return ProxyHeaderWriter.Write(_version, source, _destination, destination);
    }

    /// <summary>
    /// The probe connection's header (<see cref="BenchRunner"/>), or null without <see cref="BenchOptions.ProxyProtocol"/>:
    /// from 10.255.255.255:65535, outside the load connections' range, before the server's address is known.
    /// </summary>
    public static byte[]? ForProbe(BenchOptions options)
    {
        if (options.ProxyProtocol == 0)
        {
            return null;
        }

        Span<byte> buffer = stackalloc byte[ProxyHeaderWriter.MaxBytes];
        int length = ProxyHeaderWriter.Write(options.ProxyProtocol, new IPEndPoint(s_probeSource, 65535),
            new IPEndPoint(s_ipv6StandIn, options.Port), buffer);
        return buffer[..length].ToArray();
    }

    /// <summary>The next connection's header as a new array (the async path; the epoll path writes into its own buffer).</summary>
    public byte[] Next()
    {
        Span<byte> buffer = stackalloc byte[ProxyHeaderWriter.MaxBytes];
        return buffer[..WriteNext(buffer)].ToArray();
    }
}
