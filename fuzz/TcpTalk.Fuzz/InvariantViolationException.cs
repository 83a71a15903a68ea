namespace TcpTalk.Fuzz;

/// <summary>
/// A fuzz target found its code under test breaking a stated property. Thrown (never caught) so that the process
/// dies and AFL records the input as a crash; the message says which property and shows the input.
/// </summary>
public sealed class InvariantViolationException(string message) : Exception(message)
{
    /// <summary>Throws when <paramref name="condition"/> is false.</summary>
    public static void Check(bool condition, string property, ReadOnlySpan<byte> input)
    {
        if (!condition)
        {
            throw new InvariantViolationException($"{property}; input {Convert.ToHexString(input)}");
        }
    }
}
