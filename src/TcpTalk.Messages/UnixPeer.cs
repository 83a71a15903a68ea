using System.Globalization;

namespace TcpTalk.Messages;

/// <summary>
/// Who is at the other end of a unix-socket connection, as far as the operating system tells: on Linux the process,
/// user and group of the peer when it connected (SO_PEERCRED); elsewhere nothing.
/// </summary>
/// <param name="ProcessId">The peer's process id (its pid when it called connect), or null when the OS does not say.</param>
/// <param name="UserId">The peer's effective user id, or null when the OS does not say.</param>
/// <param name="GroupId">The peer's effective group id, or null when the OS does not say.</param>
public sealed record UnixPeer(int? ProcessId, uint? UserId, uint? GroupId)
{
    /// <summary>The prefix of every unix-socket address text: <c>unix:/run/tcptalk.sock</c>, <c>unix:pid=42,uid=0</c>.</summary>
    public const string Prefix = "unix:";

    /// <summary>A peer the OS says nothing about (Windows, macOS without LOCAL_PEERCRED support here): named just <c>unix</c>.</summary>
    public static UnixPeer Unknown { get; } = new(null, null, null);

    /// <summary>
    /// How the peer is named in the greeting, the output, the logs and both journals: <c>unix:pid=42,uid=1000</c>
    /// (the parts the OS told), or <c>unix</c> when it told nothing. Never longer than 37 characters.
    /// </summary>
    public string Name { get; } = Describe(ProcessId, UserId);

    private static string Describe(int? pid, uint? uid)
    {
        if (pid is null && uid is null)
        {
            return "unix";
        }

        var parts = new List<string>(2);
        if (pid is { } p)
        {
            parts.Add("pid=" + p.ToString(CultureInfo.InvariantCulture));
        }

        if (uid is { } u)
        {
            parts.Add("uid=" + u.ToString(CultureInfo.InvariantCulture));
        }

        return Prefix + string.Join(',', parts);
    }
}
