#!/usr/bin/perl
# loxcan plugin page (LoxBerry's page frame): the gateway's state and the Loxone Config template
# downloads. `?download=udp-in|out|http-in|v2` returns the file instead of the page.
# The CLI runs as user loxcan through sudo (plugin sudoers file), which can read loxcan.yaml.
use strict;
use warnings;
use CGI;
use LoxBerry::System;
use LoxBerry::Web;

my $config = $ENV{LOXCAN_CONFIG} || '/etc/loxcan/loxcan.yaml';
my @cli = split ' ', ($ENV{LOXCAN_CLI} || 'sudo -n -u loxcan /usr/bin/loxcan');
my $unit = 'loxcan-gateway.service';

my %downloads = (
  'udp-in'  => ['loxone-template', '--kind', 'udp-in', 'loxcan-VIU.xml', 'application/xml',
                'Virtual UDP Input: every value through the MQTT Gateway (UDP route)'],
  'out'     => ['loxone-template', '--kind', 'out', 'loxcan-VO.xml', 'application/xml',
                'Virtual Output: commands back to loxcan through the MQTT Gateway'],
  'http-in' => ['loxone-template', '--kind', 'http-in', 'loxcan-virtual-inputs.txt', 'text/plain',
                'Virtual Input names for the HTTP route'],
  'v2'      => ['loxberry-subscriptions', '--format', 'v2', 'loxcan-v2-topics.txt', 'text/plain',
                'MQTT Gateway V2: the topics to subscribe'],
);

sub run_cli {
  my (@args) = @_;
  open(my $fh, '-|', @cli, @args) or return (undef, "cannot run @cli: $!");
  local $/;
  my $out = <$fh>;
  close($fh);
  return ($? == 0 ? $out : undef, $? == 0 ? '' : "loxcan @args failed (exit " . ($? >> 8) . ")");
}

sub html { my $s = shift // ''; $s =~ s/&/&amp;/g; $s =~ s/</&lt;/g; $s =~ s/>/&gt;/g; $s =~ s/"/&quot;/g; return $s; }

sub unit_state {
  my %state;
  open(my $fh, '-|', 'systemctl', 'show', '-p', 'ActiveState', '-p', 'SubState', '-p', 'StatusText', $unit)
    or return %state;
  while (my $line = <$fh>) { chomp $line; my ($k, $v) = split /=/, $line, 2; $state{$k} = $v; }
  close($fh);
  return %state;
}

my $cgi = CGI->new;
my $kind = $cgi->param('download') // '';
if (exists $downloads{$kind}) {
  my ($verb, $opt, $val, $file, $type) = @{ $downloads{$kind} };
  my @args = ($verb, '--config', $config, $opt, $val);
  push @args, ('--loxberry', LoxBerry::System::get_localip()) if $verb eq 'loxone-template';
  my ($out, $err) = run_cli(@args);
  if (!defined $out) {
    print $cgi->header(-type => 'text/plain', -status => '500 Internal Server Error', -charset => 'utf-8'), "$err\n";
    exit 0;
  }
  print $cgi->header(-type => $type, -charset => 'utf-8', -attachment => $file), $out;
  exit 0;
}

my %state = unit_state();
my ($version) = run_cli('--version');
print $cgi->header(-type => 'text/html', -charset => 'utf-8');  # lbheader prints the page head only
LoxBerry::Web::lbheader('loxcan', '', '');
print "<h2>loxcan gateway</h2>\n<table class=\"loxcan-state\">\n";
print '<tr><td>Service</td><td id="loxcan-active">', html($state{ActiveState} // 'unknown'), ' (',
  html($state{SubState} // '?'), ")</td></tr>\n";
print '<tr><td>Status</td><td id="loxcan-status">', html($state{StatusText} || '-'), "</td></tr>\n";
print '<tr><td>Version</td><td>', html($version // '?'), "</td></tr>\n";
print '<tr><td>Configuration</td><td>', html($config), "</td></tr>\n</table>\n";
print "<h3>Loxone Config templates</h3>\n<p>Import the XML files in Loxone Config (Virtual Inputs / Virtual Outputs, ",
  "Import template). They follow the device map; download them again after changing it.</p>\n<ul>\n";
for my $k (qw(udp-in out http-in v2)) {
  print "<li><a href=\"index.cgi?download=$k\" data-ajax=\"false\">", html($downloads{$k}[3]), '</a> - ',
    html($downloads{$k}[5]), "</li>\n";
}
print "</ul>\n";
LoxBerry::Web::lbfooter();
exit 0;
