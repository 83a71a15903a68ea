using TcpTalk.Protocol;

namespace TcpTalk.Protocol.Tests;

/// <summary>The <c>unix:/path</c> spelling that serve --listen, send and bench take.</summary>
public class UnixSocketPathTests
{
    [Theory]
    [InlineData("unix:/run/tcptalk.sock", "/run/tcptalk.sock")]
    [InlineData("UNIX:relative.sock", "relative.sock")]
    public void UnixAddressGivesItsPath(string text, string path)
    {
        Assert.True(UnixSocketPath.TryParse(text, out string parsed, out string? problem), problem);
        Assert.Equal(path, parsed);
    }

    [Fact]
    public void EmptyPathIsRefused()
    {
        Assert.False(UnixSocketPath.TryParse("unix:", out _, out string? problem));
        Assert.Equal("give the socket's path after unix:, e.g. unix:/run/tcptalk.sock", problem);
    }

    [Fact]
    public void PathLongerThanASocketAddressHoldsIsRefused()
    {
        Assert.True(UnixSocketPath.TryParse("unix:/" + new string('a', 106), out _, out _));
        Assert.False(UnixSocketPath.TryParse("unix:/" + new string('a', 107), out _, out string? problem));
        Assert.Equal("the unix socket path is 108 bytes; the system allows at most 107", problem);
    }

    [Fact]
    public void HostAndPortReadsAUnixAddressWhole()
    {
        Assert.True(HostAndPort.TryParse("unix:/run/tcptalk.sock", HostAndPort.DefaultPort, out var target, out _));
        Assert.True(target.IsUnixSocket);
        Assert.Equal(new HostAndPort("unix:/run/tcptalk.sock", 0), target);
        Assert.Equal("unix:/run/tcptalk.sock", target.ToString());
        Assert.False(HostAndPort.TryParse("unix:", HostAndPort.DefaultPort, out _, out _));
    }
}
