using System.Text;

namespace TcpTalk.Protocol;

/// <summary>
/// The <c>unix:/path</c> spelling of a unix-domain socket address, as <c>serve --listen</c>, <c>send</c> and
/// <c>bench</c> take it: the prefix <c>unix:</c>, then a file system path (relative paths are relative to the working
/// directory). Linux abstract names are not supported: a path is also what the file mode protects.
/// </summary>
public static class UnixSocketPath
{
    /// <summary>The prefix that marks a unix socket address.</summary>
    public const string Prefix = "unix:";

    /// <summary>The most bytes a path may have: sockaddr_un's sun_path holds 108 with its terminating NUL.</summary>
    public const int MaxPathBytes = 107;

    /// <summary>Whether <paramref name="text"/> is meant as a unix socket address (starts with <c>unix:</c>, any case).</summary>
    public static bool IsUnixAddress(string? text) => text is not null && text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads <c>unix:PATH</c>. False with a sentence in <paramref name="problem"/> when the path is empty, too long for
    /// a socket address, or contains a NUL; <paramref name="path"/> is then empty.
    /// </summary>
    public static bool TryParse(string text, out string path, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        path = string.Empty;
        if (!IsUnixAddress(text))
        {
            problem = $"'{text}' is not a unix socket address: write unix:/path/to/socket";
            return false;
        }

        string candidate = text[Prefix.Length..];
        if (candidate.Length == 0)
        {
            problem = "give the socket's path after unix:, e.g. unix:/run/tcptalk.sock";
            return false;
        }

        if (candidate.Contains('\0', StringComparison.Ordinal))
        {
            problem = "a unix socket path cannot contain a NUL character";
            return false;
        }

        int bytes = Encoding.UTF8.GetByteCount(candidate);
        if (bytes > MaxPathBytes)
        {
            problem = $"the unix socket path is {bytes} bytes; the system allows at most {MaxPathBytes}";
            return false;
        }

        path = candidate;
        problem = null;
        return true;
    }

    /// <summary><c>unix:</c> and <paramref name="path"/>: the text <see cref="TryParse"/> reads back.</summary>
    public static string Format(string path) => Prefix + path;
}
