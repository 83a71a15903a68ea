using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TcpTalk.Messages;

namespace TcpTalk.Hosting.Tests;

/// <summary><c>Server:Listen</c> with <c>unix:/path</c> and <c>Server:UnixSocketMode</c> in a real Generic Host.</summary>
public sealed class HostedUnixSocketTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-hosting-unix-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task UnixListenSettingServesOnTheSocketWithItsMode()
    {
        string path = Path.Combine(_dir, "hosted.sock");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TcpTalk:Server:Listen:0"] = "unix:" + path,
            ["TcpTalk:Server:UnixSocketMode"] = "600",
            ["TcpTalk:Journal:Enabled"] = "false",
        });
        builder.Services.AddSingleton(MessageSinks.None);
        builder.Services.AddTalkServer(builder.Configuration.GetSection("TcpTalk"));
        using var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await host.StartAsync(timeout.Token);
        Assert.Equal([path], host.Services.GetRequiredService<TalkServerService>().Server!.UnixSocketPaths);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        using (var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await client.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
            Assert.StartsWith("Welcome unix", Encoding.ASCII.GetString(await client.ReadFrameAsync()), StringComparison.Ordinal);
        }

        await host.StopAsync(timeout.Token);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void UnixListenSettingReadsBackAsWritten()
    {
        var settings = TalkServerSettings.Bind(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:Listen:0"] = "unix:/run/tcptalk.sock",
            ["Server:Listen:1"] = "127.0.0.1:9000",
            ["Server:UnixSocketMode"] = "0666",
        }).Build());
        Assert.Empty(settings.FindProblems());
        Assert.Equal(["unix:/run/tcptalk.sock", "127.0.0.1:9000"], settings.Server.Listen);
        Assert.Equal("0666", settings.Server.UnixSocketMode);
    }
}
