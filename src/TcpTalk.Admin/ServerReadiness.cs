using TcpTalk.Messages;

namespace TcpTalk.Admin;

/// <summary>
/// The readiness of a TcpTalk server from the three signals the hosting layer has: whether the server is listening,
/// whether its journal is writable (<see cref="IMessageJournal.IsHealthy"/>) and whether it is draining (stopping).
/// Ready only when all three say so; the first that does not names the reason.
/// </summary>
/// <param name="isListening">True once the server has bound its endpoints and accepts (e.g. after StartAsync, before StopAsync).</param>
/// <param name="journal">The server's journal, or null when it runs without one.</param>
/// <param name="isDraining">True from the moment the host starts stopping (e.g. IHostApplicationLifetime.ApplicationStopping).</param>
public sealed class ServerReadiness(Func<bool> isListening, IMessageJournal? journal, Func<bool> isDraining) : IReadinessSource
{
    private readonly Func<bool> _isListening = isListening ?? throw new ArgumentNullException(nameof(isListening));
    private readonly Func<bool> _isDraining = isDraining ?? throw new ArgumentNullException(nameof(isDraining));

    /// <inheritdoc />
    public string? NotReadyReason()
    {
        if (_isDraining())
        {
            return "server is draining";
        }

        if (!_isListening())
        {
            return "server is not listening";
        }

        if (journal is { IsHealthy: false })
        {
            return "journal is not writable";
        }

        return null;
    }
}
