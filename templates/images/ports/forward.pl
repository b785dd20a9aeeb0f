#!/usr/bin/perl
# devkit-forward FIRST-LAST: listens on ports FIRST to LAST and passes every
# connection to the same port of the `dev` service. The target host is fixed
# here, never taken from the environment or the arguments, so the forwarder
# cannot be turned into a way out of the sandbox. Perl: the base image has it.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Socket qw(SHUT_WR);

my ($first, $last) = ($ARGV[0] // '') =~ /^([0-9]{4,5})-([0-9]{4,5})$/
  or die "usage: devkit-forward FIRST-LAST (ports from 1024)\n";
die "devkit-forward: bad range $first-$last\n" if $first < 1024 || $last > 65535 || $last < $first || $last - $first >= 100;

$SIG{CHLD} = 'IGNORE';    # children reap themselves
my $listeners = IO::Select->new;
my %port_of;
for my $port ($first .. $last) {
  my $listener = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $port, Listen => 128, ReuseAddr => 1, Proto => 'tcp')
    or die "devkit-forward: cannot listen on port $port: $@\n";
  $listeners->add($listener);
  $port_of{ fileno $listener } = $port;
}
$| = 1;
print "devkit-forward: ports $first-$last go to dev\n";

# Copies both ways until both sides have closed; one side's end is passed on as a half close.
sub relay {
  my ($client, $port) = @_;
  my $dev = IO::Socket::INET->new(PeerAddr => 'dev', PeerPort => $port, Proto => 'tcp', Timeout => 10) or return;
  my %other = (fileno($client) => $dev, fileno($dev) => $client);
  my $open = IO::Select->new($client, $dev);
  while ($open->count > 0) {
    for my $from ($open->can_read) {
      my $to = $other{ fileno $from };
      my $read = sysread($from, my $buffer, 65536);
      if (!$read) {
        $open->remove($from);
        shutdown($to, SHUT_WR);
        next;
      }
      for (my $done = 0; $done < $read;) {
        my $written = syswrite($to, $buffer, $read - $done, $done);
        return unless defined $written;
        $done += $written;
      }
    }
  }
}

$SIG{PIPE} = 'IGNORE';
while (1) {
  for my $listener ($listeners->can_read) {
    my $client = $listener->accept or next;
    my $port = $port_of{ fileno $listener };
    my $pid = fork;
    if (defined $pid && $pid == 0) {
      $_->close for $listeners->handles;
      relay($client, $port);
      exit 0;
    }
    close $client;
  }
}
