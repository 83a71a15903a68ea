using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TcpTalk.Messages;

namespace TcpTalk.Hosting.Tests;

/// <summary>
/// Reloading a hosted server as an application does: <c>AddTalkServerReload</c> over a JSON file added with
/// <c>reloadOnChange</c>, and <see cref="TalkServerService.Reload"/> itself; plus the admin endpoint of <c>Admin:Listen</c>.
/// </summary>
public sealed class HostedReloadTests : IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-hosting-reload-").FullName;
    private readonly LogCapture _log = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ConfigFile => Path.Combine(_dir, "appsettings.json");

    private IHost Build(string json)
    {
        File.WriteAllText(ConfigFile, json);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddJsonFile(ConfigFile, optional: false, reloadOnChange: true);
        builder.Logging.AddProvider(_log);
        builder.Services.AddTalkServer(builder.Configuration.GetSection("TcpTalk"));
        builder.Services.AddTalkServerReload(o => o.OnHangupSignal = false);
        return builder.Build();
    }

    private static async Task<string> GreetingAsync(IHost host)
    {
        var endpoint = host.Services.GetRequiredService<TalkServerService>().Server!.BoundEndpoints[0];
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endpoint);
        return Encoding.ASCII.GetString(await client.ReadFrameAsync());
    }

    private static string Json(string greeting, string more = "", string levels = "Information") =>
        $$"""{ "Logging": { "LogLevel": { "Default": "{{levels}}" } }, "TcpTalk": { "Server": { "Listen": [ "127.0.0.1:0" ], "Greeting": "{{greeting}}"{{more}} }, "Journal": { "Enabled": false } } }""";

    /// <summary>Records, at each "Configuration reloaded" line, what <see cref="Check"/> says at that moment.</summary>
    private sealed class ReloadLineProbe : ILoggerProvider, ILogger
    {
        public Func<bool> Check { get; set; } = () => false;

        public System.Collections.Concurrent.ConcurrentQueue<bool> Seen { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (formatter(state, exception).StartsWith("Configuration reloaded", StringComparison.Ordinal))
            {
                Seen.Enqueue(Check());
            }
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task AJsonFileWithReloadOnChangeGivesNewConnectionsTheNewGreeting()
    {
        using var host = Build(Json("One"));
        await host.StartAsync(new CancellationTokenSource(Soon).Token);
        Assert.Equal("One", await GreetingAsync(host));

        File.WriteAllText(ConfigFile, Json("Two"));
        await Poll.UntilAsync(() => _log.Lines.Any(l => l == "Configuration reloaded (1 changes: Server:Greeting)"), Soon);
        Assert.Equal("Two", await GreetingAsync(host));
        await host.StopAsync();
    }

    [Fact]
    public async Task TheLogLevelsAreInForceWhenTheReloadIsLogged()
    {
        // At the moment the "reloaded" line is written, the logger filters must already be the file's new ones: a
        // connection accepted right after it is logged at the new level (the functional test's flake, made exact).
        File.WriteAllText(ConfigFile, Json("One", levels: "Information"));
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddJsonFile(ConfigFile, optional: false, reloadOnChange: true);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        var probe = new ReloadLineProbe();
        builder.Logging.AddProvider(probe);
        builder.Services.AddTalkServer(builder.Configuration.GetSection("TcpTalk"));
        builder.Services.AddTalkServerReload(o => o.OnHangupSignal = false);
        using var host = builder.Build();
        var serverLog = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TcpTalk.Server");
        probe.Check = () => serverLog.IsEnabled(LogLevel.Debug);
        await host.StartAsync(new CancellationTokenSource(Soon).Token);
        Assert.False(serverLog.IsEnabled(LogLevel.Debug));

        for (int round = 1; round <= 3; round++) // the callbacks' order changes from one reload to the next
        {
            string level = round % 2 == 1 ? "Debug" : "Information";
            File.WriteAllText(ConfigFile, Json($"Round {round}", levels: level));
            await Poll.UntilAsync(() => probe.Seen.Count == round, Soon);
            Assert.Equal(level == "Debug", probe.Seen.Last());
        }

        await host.StopAsync();
    }

    [Fact]
    public async Task AValueThatCannotBeUsedIsRefusedNamingItsKeyUnderTheSectionAndTheOldOnesStay()
    {
        using var host = Build(Json("One"));
        await host.StartAsync(new CancellationTokenSource(Soon).Token);
        var service = host.Services.GetRequiredService<TalkServerService>();
        var next = TalkServerSettings.Bind(new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(Json("Two", """, "MaxConnections": -1 """)))).Build().GetSection("TcpTalk"));

        var reload = service.Reload(next);

        Assert.False(reload.Applied);
        Assert.Equal("TcpTalk:Server:MaxConnections must be 0 (no limit) or more, not -1", reload.Problem);
        Assert.Contains("Configuration not reloaded: TcpTalk:Server:MaxConnections must be 0 (no limit) or more, not -1; the settings in force stay", _log.Lines);
        Assert.Equal("One", await GreetingAsync(host));
        await host.StopAsync();
    }

    [Fact]
    public async Task SettingsThatCannotChangeWhileServingKeepTheirValuesAndAreNamed()
    {
        using var host = Build(Json("One"));
        await host.StartAsync(new CancellationTokenSource(Soon).Token);
        var service = host.Services.GetRequiredService<TalkServerService>();
        var next = new TalkServerSettings();
        next.Server.Listen = ["127.0.0.1:0"];
        next.Server.Framing = "line";
        next.Server.Greeting = "Two";
        next.Journal.Enabled = false;
        next.Journal.Path = "elsewhere.db";

        var reload = service.Reload(next);

        Assert.True(reload.Applied);
        Assert.Equal(["Server:Greeting"], reload.Changed);
        Assert.Equal(["Server:Framing", "Journal:Path"], reload.RestartNeeded);
        Assert.Contains(_log.Lines, l => l.StartsWith("Configuration: TcpTalk:Server:Framing, TcpTalk:Journal:Path cannot change while serving", StringComparison.Ordinal));
        Assert.Equal("nul", service.Settings.Server.Framing);
        Assert.Equal("tcptalk.db", service.Settings.Journal.Path);
        Assert.Equal("Two", await GreetingAsync(host)); // NUL-framed still
        await host.StopAsync();
    }

    [Fact]
    public async Task AdminListenServesReadyzWhileServingAndLogsWhere()
    {
        using var host = Build("""{ "TcpTalk": { "Server": { "Listen": [ "127.0.0.1:0" ] }, "Journal": { "Enabled": false }, "Admin": { "Listen": "127.0.0.1:0" } } }""");
        await host.StartAsync(new CancellationTokenSource(Soon).Token);
        var admin = host.Services.GetRequiredService<TalkServerService>().Admin!.BoundEndpoint!;
        Assert.Equal(IPAddress.Loopback, admin.Address);
        Assert.Contains($"Admin endpoint on http://{admin} (/metrics, /healthz, /readyz)", _log.Lines);

        using var http = new HttpClient { Timeout = Soon };
        using (var ready = await http.GetAsync(new Uri($"http://{admin}/readyz")))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        Assert.Contains("# TYPE process_cpu_seconds_total counter", (await http.GetStringAsync(new Uri($"http://{admin}/metrics"))).Split('\n'));
        await host.StopAsync();
    }

    [Fact]
    public async Task AnAdminEndpointThatCannotListenFailsTheStartNamingItsKey()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        using var host = Build($$"""{ "TcpTalk": { "Server": { "Listen": [ "127.0.0.1:0" ] }, "Journal": { "Enabled": false }, "Admin": { "Listen": "{{taken.LocalEndPoint}}" } } }""");

        var error = await Assert.ThrowsAsync<TcpTalk.Server.ListenException>(() => host.StartAsync());
        Assert.Equal($"admin endpoint (TcpTalk:Admin:Listen): address {taken.LocalEndPoint} is already in use", error.Message);
    }
}
