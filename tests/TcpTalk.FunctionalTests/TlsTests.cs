using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// TLS as a user sets it up: <c>tcptalk cert create</c>, then <c>serve --tls-cert</c> and <c>send --tls</c>, with the
/// exact lines and exit codes a user sees.
/// </summary>
public sealed partial class TlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name) => Path.Combine(_dir, name);

    private async Task<IReadOnlyList<string>> CreateCertificatesAsync(bool client = false)
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["cert", "create", "--out", _dir, .. client ? new[] { "--client" } : []]);
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        return stdout;
    }

    private Task<ServeProcess> ServeTlsAsync(params string[] more) =>
        Tcptalk.ServeAsync(["--tls-cert", File("server.pem"), "--tls-key", File("server.key"), .. more]);

    [Fact]
    public async Task CertCreateWritesPemFilesWithOwnerOnlyKeysAndPrintsTheRecipe()
    {
        var stdout = await CreateCertificatesAsync(client: true);

        foreach (string name in new[] { "ca.pem", "server.pem", "server.key", "client.pem", "client.key" })
        {
            Assert.True(System.IO.File.Exists(File(name)), name);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(File("server.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(File("client.key")));
        }

        using var server = X509Certificate2.CreateFromPemFile(File("server.pem"), File("server.key"));
        Assert.Equal("CN=localhost", server.Subject);
        Assert.Contains($"  tcptalk serve --tls-cert {File("server.pem")} --tls-key {File("server.key")} --tls-client-ca {File("ca.pem")}", stdout);
        Assert.Contains($"  tcptalk send localhost --tls --tls-ca {File("ca.pem")} --tls-cert {File("client.pem")} --tls-key {File("client.key")} hello", stdout);

        var (code, _, stderr) = await Tcptalk.RunAsync(["cert", "create", "--out", _dir]);
        Assert.Equal(2, code);
        Assert.Equal([$"tcptalk: {File("ca.pem")} already exists; remove it or choose another --out"], stderr);
    }

    [Fact]
    public async Task SendTlsWithTheCaPrintsTheGreetingAndTheServerPrintsTheMessages()
    {
        await CreateCertificatesAsync();
        await using var server = await ServeTlsAsync();

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"localhost:{server.Port}", "--tls", "--tls-ca", File("ca.pem"), "one", "two words"]);

        Assert.Equal(0, code);
        Assert.Equal(["Welcome 127.0.0.1!"], stdout);
        Assert.Empty(stderr);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" two words", StringComparison.Ordinal));
        Assert.Equal(["one", "two words"], server.Process.Stdout.Select(l => l.Split(' ', 3)[2]));
    }

    [Fact]
    public async Task SendTlsPinnedToTheFingerprintServePrintsConnectsAndVerboseShowsTheCertificate()
    {
        await CreateCertificatesAsync();
        await using var server = await ServeTlsAsync();
        string line = await server.Process.WaitForLineAsync(l => l.Contains("TLS certificate", StringComparison.Ordinal), stderr: true);
        string fingerprint = FingerprintPattern().Match(line).Groups[1].Value;
        Assert.Equal(95, fingerprint.Length);

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "--tls", "--tls-pin", fingerprint, "-v", "pinned"]);

        Assert.Equal(0, code);
        Assert.Equal(["Welcome 127.0.0.1!"], stdout);
        Assert.Contains(stderr, l => Regex.IsMatch(l, $@"^tls: TLS 1\.[23], server certificate CN=localhost SHA256 {fingerprint}$"));
    }

    [Fact]
    public async Task AnUntrustedServerExitsWith12AndOneLine()
    {
        await CreateCertificatesAsync();
        using var ca = X509Certificate2.CreateFromPem(await System.IO.File.ReadAllTextAsync(File("ca.pem")));
        await using var server = await ServeTlsAsync();

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "--tls", "x"]);

        Assert.Equal(12, code);
        Assert.Empty(stdout);
        Assert.Equal([$"tcptalk: the certificate of 127.0.0.1:{server.Port} (CN=localhost) is not trusted: its issuer {ca.Subject} is not a trusted CA; trust that CA or pin the certificate's fingerprint"], stderr);
    }

    [Fact]
    public async Task TlsInsecurePrintsItsWarningAndConnects()
    {
        await CreateCertificatesAsync();
        await using var server = await ServeTlsAsync();

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "--tls", "--tls-insecure", "x"]);

        Assert.Equal(0, code);
        Assert.Equal(["Welcome 127.0.0.1!"], stdout);
        Assert.Equal(["tcptalk: warning: --tls-insecure skips certificate validation: the connection is encrypted, but anyone in the path can pose as the server"], stderr);
    }

    [Fact]
    public async Task MutualTlsServesTheClientCertificateAndRefusesNoneWith12()
    {
        await CreateCertificatesAsync(client: true);
        await using var server = await ServeTlsAsync("--tls-client-ca", File("ca.pem"));

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "--tls", "--tls-ca", File("ca.pem"),
            "--tls-cert", File("client.pem"), "--tls-key", File("client.key"), "with a certificate"]);
        Assert.Equal(0, code);
        Assert.Equal(["Welcome 127.0.0.1!"], stdout);
        Assert.Empty(stderr);

        (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "--tls", "--tls-ca", File("ca.pem"), "without"]);
        Assert.Equal(12, code);
        Assert.Equal([$"tcptalk: 127.0.0.1:{server.Port} requires a client certificate (mutual TLS) and none was given"], stderr);
        await server.Process.WaitForLineAsync(l => l.Contains("refused: no client certificate (mutual TLS requires one)", StringComparison.Ordinal), stderr: true);
        Assert.Equal(["with a certificate"], server.Process.Stdout.Select(l => l.Split(' ', 3)[2]));
    }

    [Fact]
    public async Task UnusableCertificateFilesAreUsageErrors()
    {
        await CreateCertificatesAsync();

        var (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--listen", "127.0.0.1:0", "--no-journal", "--tls-cert", File("server.pem")]);
        Assert.Equal(2, code);
        Assert.Equal([$"tcptalk: --tls-cert {File("server.pem")} holds no private key; give it with --tls-key"], stderr);

        (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--listen", "127.0.0.1:0", "--no-journal", "--tls-cert", File("nope.pem")]);
        Assert.Equal(2, code);
        Assert.Equal([$"tcptalk: --tls-cert {File("nope.pem")}: no such file"], stderr);

        (code, _, stderr) = await Tcptalk.RunAsync(["send", "127.0.0.1:1", "--tls", "--tls-ca", File("server.key"), "x"]);
        Assert.Equal(2, code);
        Assert.Equal([$"tcptalk: --tls-ca {File("server.key")}: no certificate in it"], stderr);
    }

    [GeneratedRegex(@"SHA256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")]
    private static partial Regex FingerprintPattern();
}
