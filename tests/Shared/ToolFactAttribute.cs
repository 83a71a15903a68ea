namespace TcpTalk.TestSupport;

/// <summary>A fact that needs executables on PATH (Debian's prometheus package: promtool, prometheus); skipped, naming them, when absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(params string[] tools)
    {
        var missing = tools.Where(t => Tools.Find(t) is null).ToArray();
        if (missing.Length > 0)
        {
            Skip = $"needs {string.Join(" and ", missing)} on PATH (Debian: apt-get install prometheus)";
        }
    }
}

/// <summary>Finds executables on PATH.</summary>
internal static class Tools
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
