using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TcpTalk.Messages;
using TcpTalk.Server;

namespace TcpTalk.Hosting.Tests;

/// <summary><c>AddTalkServer</c> in a real Generic Host, over real loopback sockets, as an application embeds it.</summary>
public sealed class HostedServerTests : IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-hosting-").FullName;
    private readonly LogCapture _log = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AHostedServerGreetsStoresAcknowledgesAndHandsMessagesToTheSink()
    {
        string journal = Path.Combine(_dir, "messages.db");
        var received = new ChannelMessageSink();
        using var host = Build(received, ("TcpTalk:Server:Listen:0", "127.0.0.1:0"), ("TcpTalk:Server:Acknowledge", "true"), ("TcpTalk:Journal:Path", journal));
        using var timeout = new CancellationTokenSource(Soon);

        await host.StartAsync(timeout.Token);
        var endpoint = host.Services.GetRequiredService<TalkServerService>().Server!.BoundEndpoints[0];
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(endpoint, timeout.Token);
            Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync()));
            await client.SendAsync("hello\0"u8.ToArray(), SocketFlags.None, timeout.Token);
            Assert.Equal("ack 1", Encoding.ASCII.GetString(await client.ReadFrameAsync()));
        }

        var message = await received.ReadAllAsync(timeout.Token).FirstAsync(timeout.Token);
        Assert.Equal("hello", message.DisplayText);
        await host.StopAsync(timeout.Token);
        Assert.True(File.Exists(journal));
        // Acknowledgements imply Full durability: an ack is a promise that survives a power loss.
        Assert.Contains(_log.Lines, l => l.Contains("opened", StringComparison.Ordinal) && l.Contains("durability Full", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AValueThatCannotBeUsedFailsTheStartNamingItsKeyUnderTheSection()
    {
        using var host = Build(MessageSinks.None, ("TcpTalk:Server:Port", "70000"), ("TcpTalk:Journal:Enabled", "false"));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Equal("TcpTalk:Server:Port must be between 0 and 65535, not 70000", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task AServerThatCannotListenFailsTheStartBeforeCreatingItsJournal()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        string journal = Path.Combine(_dir, "never.db");
        using var host = Build(MessageSinks.None, ("TcpTalk:Server:Listen:0", taken.LocalEndPoint!.ToString()!), ("TcpTalk:Journal:Path", journal));

        await Assert.ThrowsAsync<AddressInUseException>(() => host.StartAsync());
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public async Task ACertificateFileThatIsMissingFailsTheStartNamingItsKey()
    {
        string missing = Path.Combine(_dir, "nope.pem");
        using var host = Build(MessageSinks.None, ("TcpTalk:Tls:Certificate", missing), ("TcpTalk:Journal:Enabled", "false"));

        var error = await Assert.ThrowsAsync<TalkSettingsException>(() => host.StartAsync());
        Assert.Equal($"TcpTalk:Tls:Certificate {missing}: no such file", error.Message);
        Assert.Equal("Tls:Certificate", error.Problem.Key);
    }

    [Fact]
    public void TheHostWaitsForTheServersOwnShutdownTimeoutAndAMargin()
    {
        using var host = Build(MessageSinks.None, ("TcpTalk:Server:ShutdownTimeout", "45s"));

        Assert.Equal(TimeSpan.FromSeconds(55), host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    private IHost Build(IMessageSink sink, params (string Key, string Value)[] values)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)));
        builder.Logging.AddProvider(_log);
        builder.Services.AddSingleton(sink);
        builder.Services.AddTalkServer(builder.Configuration.GetSection("TcpTalk"));
        return builder.Build();
    }
}
