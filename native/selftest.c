#include "arch.h"
static long w(const char *s){long n=0;while(s[n])n++;return raw_syscall6(NR_write,1,(long)s,n,0,0,0);}
static long f(void *a){ return (long)a + 1; }
void vfc_entry(long *sp){
  long argc = sp[0]; (void)argc;
  unsigned long dmg=99; long r = call_with_register_canaries(f,(void*)41,&dmg);
  if (r==42 && dmg==0) w("canaries ok\n"); else w("canaries BAD\n");
  volatile int shared = 0;
  long pid = raw_clone_vfork(CLONE_VM|CLONE_VFORK|SIGCHLD);
  if (pid == 0) { shared = 1; raw_syscall6(NR_exit_group, 7,0,0,0,0,0); }
  int st=0; raw_syscall6(NR_wait4, pid, (long)&st, 0,0,0,0);
  w(shared ? "shared memory\n" : "not shared\n");
  w(((st>>8)&0xff)==7 ? "status ok\n" : "status BAD\n");
  raw_syscall6(NR_exit_group,0,0,0,0,0,0);
  for(;;);
}
