namespace DeepSeekMesh.Cli;

/// <summary>A one-line progress bar on stderr (stdout stays machine-readable); plain lines when stderr is not a terminal.</summary>
public sealed class ProgressBar(string label, bool plain) : IDisposable
{
    const int Width = 30;
    int _lastPercent = -1;

    public void Report(int done, int total)
    {
        int percent = total == 0 ? 100 : done * 100 / total;
        if (percent == _lastPercent || (plain && percent % 25 != 0)) return;
        _lastPercent = percent;
        int filled = percent * Width / 100;
        var line = $"{label} [{new string('#', filled)}{new string(' ', Width - filled)}] {percent,3}% ({done}/{total})";
        if (plain) Console.Error.WriteLine(line); else Console.Error.Write("\r" + line);
    }

    public void Dispose()
    {
        if (!plain && _lastPercent >= 0) Console.Error.WriteLine();
    }
}
