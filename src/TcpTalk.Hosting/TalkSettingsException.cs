namespace TcpTalk.Hosting;

/// <summary>
/// A TcpTalk setting cannot be used: a value out of range or of the wrong kind, a certificate file that is missing
/// or unusable. Thrown when the server starts; <see cref="Problem"/> says which setting and why.
/// </summary>
public sealed class TalkSettingsException : Exception
{
    /// <summary>Creates the exception for <paramref name="problem"/>, its message naming the setting with <paramref name="names"/>.</summary>
    public TalkSettingsException(SettingProblem problem, ISettingNames? names = null, Exception? innerException = null)
        : base($"{(names ?? SettingKeyNames.Root).Name(problem.Key)} {problem.Problem}", innerException)
    {
        Problem = problem;
    }

    /// <summary>The setting and what is wrong with it.</summary>
    public SettingProblem Problem { get; }
}
