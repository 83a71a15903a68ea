using System.Net;
using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>A listener could not be bound. The message is a sentence for the operator.</summary>
public class ListenException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ListenException(string message, Exception? innerException = null) : base(message, innerException) { }

    /// <summary>Translates a bind failure on <paramref name="endpoint"/> into a named condition.</summary>
    public static ListenException FromSocketError(IPEndPoint endpoint, SocketException error)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(error);
        string where = ClientAddress.FormatEndpoint(endpoint.Address, endpoint.Port);
        return error.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => new AddressInUseException(endpoint, error),
            SocketError.AccessDenied => new ListenException($"permission denied to listen on {where} (ports below 1024 need privileges)", error),
            SocketError.AddressNotAvailable => new ListenException($"address {where} is not an address of this machine", error),
            _ => new ListenException($"cannot listen on {where}: {error.Message}", error),
        };
    }
}

/// <summary>Another socket already listens on the endpoint.</summary>
public sealed class AddressInUseException : ListenException
{
    /// <summary>Creates the exception for <paramref name="endpoint"/>.</summary>
    public AddressInUseException(IPEndPoint endpoint, Exception? innerException = null)
        : base($"address {ClientAddress.FormatEndpoint(endpoint?.Address ?? IPAddress.None, endpoint?.Port ?? 0)} is already in use", innerException)
    {
        Endpoint = endpoint ?? throw new ArgumentNullException(nameof(endpoint));
    }

    /// <summary>The endpoint that was taken.</summary>
    public IPEndPoint Endpoint { get; }
}
