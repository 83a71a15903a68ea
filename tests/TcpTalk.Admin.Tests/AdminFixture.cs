using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpTalk.Messages;
using TcpTalk.Server;

namespace TcpTalk.Admin.Tests;

/// <summary>
/// A real TalkServer on loopback, its metrics on a meter factory of this test only (so parallel tests never add to
/// each other's values), and an admin endpoint showing exactly that factory's meters.
/// </summary>
internal sealed class AdminFixture : IAsyncDisposable
{
    private readonly ScopedMeterFactory _meters;

    private AdminFixture(ScopedMeterFactory meters, AdminEndpoint admin, TalkServer server)
    {
        _meters = meters;
        Admin = admin;
        Server = server;
    }

    public AdminEndpoint Admin { get; }

    public TalkServer Server { get; }

    public Uri Url(string path) => new($"http://{Admin.BoundEndpoint}{path}");

    public static async Task<AdminFixture> StartAsync(IReadinessSource? readiness = null)
    {
        var meters = new ScopedMeterFactory();
        var admin = new AdminEndpoint(new AdminEndpointOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            MeterFilter = m => m.Scope == meters,
            Readiness = readiness,
        });
        await admin.StartAsync();
        var options = new TalkServerOptions { MeterFactory = meters };
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        var server = new TalkServer(options, MessageSinks.None);
        await server.StartAsync();
        return new AdminFixture(meters, admin, server);
    }

    /// <summary>A connected client that has read its greeting.</summary>
    public async Task<Socket> ConnectAsync()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(Server.BoundEndpoints[0]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var one = new byte[1];
        while (await client.ReceiveAsync(one, SocketFlags.None, cts.Token) == 1 && one[0] != 0)
        {
        }

        return client;
    }

    /// <summary>Sends NUL-terminated messages.</summary>
    public static Task SendAsync(Socket client, params string[] messages) =>
        client.SendAsync(Encoding.UTF8.GetBytes(string.Concat(messages.Select(m => m + "\0"))), SocketFlags.None);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Admin.DisposeAsync();
        _meters.Dispose();
    }

    /// <summary>Creates meters whose Scope is this factory, the way the host's IMeterFactory does.</summary>
    private sealed class ScopedMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _created = [];

        public Meter Create(MeterOptions options)
        {
            options.Scope = this;
            var meter = new Meter(options);
            lock (_created)
            {
                _created.Add(meter);
            }

            return meter;
        }

        public void Dispose()
        {
            lock (_created)
            {
                _created.ForEach(m => m.Dispose());
            }
        }
    }
}
