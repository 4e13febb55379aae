using System.Runtime.InteropServices;

namespace HealthProxy.Reliability.Tests.Shutdown;

/// <summary>libc's <c>kill(2)</c>: <see cref="System.Diagnostics.Process.Kill()"/> sends SIGKILL, a pod's stop sends SIGTERM.</summary>
internal static class NativeMethods
{
    public const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}
